//go:build !js

package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"-listen", ":0"}, "not a loopback address"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"-exit-after", "-1s"}, "-exit-after"},
		{[]string{"-www", "/nonexistent-ssm-emulator-dir"}, "not a directory"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRunPrintsReadyLineAndExits(t *testing.T) {
	var stdout bytes.Buffer
	err := run([]string{"-listen", "127.0.0.1:0", "-exit-after", "200ms", "-log-level", "error"},
		&stdout, io.Discard)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	ready := regexp.MustCompile(`^ssm-emulator listening on http://127\.0\.0\.1:[1-9][0-9]*\n$`)
	if !ready.MatchString(stdout.String()) {
		t.Errorf("stdout %q is not exactly one ready line", stdout.String())
	}
}
