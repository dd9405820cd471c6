package main

import (
	"os"
	"testing"
)

func TestParentPID(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want int
	}{
		{"plain", "123 (chromium) S 45 123 123 0", 45},
		{"spaces and parentheses", "9 (a) b (c)) R 7 9 9 0", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parentPID(tt.stat)
			if err != nil {
				t.Fatalf("parentPID(%q): %v", tt.stat, err)
			}
			if got != tt.want {
				t.Errorf("parentPID(%q) = %d, want %d", tt.stat, got, tt.want)
			}
		})
	}
}

func TestParentPIDInvalid(t *testing.T) {
	for _, stat := range []string{"", "12 chromium S 1", "12 (x)"} {
		if _, err := parentPID(stat); err == nil {
			t.Errorf("parentPID(%q) returned no error", stat)
		}
	}
}

func TestSampleTreeCountsOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		t.Skip("no /proc/PID/schedstat on this system")
	}
	before, err := sampleTree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i % 7
	}
	after, err := sampleTree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after.sub(before); d.Total <= 0 {
		t.Errorf("CPU time did not grow over busy work (%d): %+v", x, d)
	}
	if after.Renderer != 0 {
		t.Errorf("Renderer = %v for a process tree without renderers", after.Renderer)
	}
}
