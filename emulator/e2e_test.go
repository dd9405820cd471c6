//go:build !js

package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

func TestE2EShellEchoPlaintext(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	c := openClient(t, s, info)
	if c.sess.Encrypted() {
		t.Errorf("plaintext session reports encryption")
	}
	c.write([]byte("echo plain-$((6*7))\r"))
	c.waitOutput("plain-42")

	c.write([]byte("exit\r"))
	res := c.waitEnd()
	if !res.Clean {
		t.Errorf("shell exit ended the session uncleanly: %v", res.Err)
	}
}

func TestE2EShellEchoKMS(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{KMS: true, RequireChallenge: true})
	c := openClient(t, s, info, requireEncryption)
	if !c.sess.Encrypted() {
		t.Errorf("KMS session does not report encryption")
	}
	if got := c.sess.CustomerMessage(); got != kmsCustomerMessage {
		t.Errorf("CustomerMessage %q, want %q", got, kmsCustomerMessage)
	}
	c.write([]byte("echo kms-$((6*7))\r"))
	c.waitOutput("kms-42")
}

func TestE2EKMSWithoutChallenge(t *testing.T) {
	s := startServer(t)
	off := false
	info := newTestSession(t, s, SessionRequest{KMS: true, Challenge: &off})
	c := openClient(t, s, info)
	c.write([]byte("echo nochallenge-$((6*7))\r"))
	c.waitOutput("nochallenge-42")
}

func TestE2EDowngradeRefused(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	_, err := tryOpenClient(t, s, info, requireEncryption)
	if err == nil {
		t.Fatalf("a plaintext session opened despite RequireEncryption")
	}
	var stepErr *protocol.StepError
	if !errors.As(err, &stepErr) {
		t.Errorf("error %v is not a *protocol.StepError", err)
	}
}

func TestE2ETwoSessionsAtOnce(t *testing.T) {
	s := startServer(t)
	a := openClient(t, s, newTestSession(t, s, SessionRequest{}))
	b := openClient(t, s, newTestSession(t, s, SessionRequest{KMS: true}))
	a.write([]byte("echo first-$((1+1))\r"))
	b.write([]byte("echo second-$((2+2))\r"))
	a.waitOutput("first-2")
	b.waitOutput("second-4")
	if bytes.Contains(a.output(), []byte("second-4")) {
		t.Errorf("output of the second session reached the first")
	}
}

func TestE2EResize(t *testing.T) {
	s := startServer(t)
	c := openClient(t, s, newTestSession(t, s, SessionRequest{}), withSize(101, 33))
	c.write([]byte("stty size; echo si''ze-done\r"))
	c.waitOutput("size-done")
	if !bytes.Contains(c.output(), []byte("33 101")) {
		t.Errorf("stty size does not show the initial 101x33")
	}
	if err := c.sess.Resize(132, 43); err != nil {
		t.Fatal(err)
	}
	// The Size message is sequenced before the next input, so the pty has
	// the new size when the shell runs the command.
	c.write([]byte("stty size; echo re''size-done\r"))
	c.waitOutput("resize-done")
	if !bytes.Contains(c.output(), []byte("43 132")) {
		t.Errorf("stty size does not show 132x43 after Resize")
	}
}

// tenMegabytes is the size of the large-output test.
const tenMegabytes = 10 << 20

func TestE2ELargeOutputByteExact(t *testing.T) {
	want, err := exec.Command("sh", "-c", fmt.Sprintf("seq 1 2000000 | head -c %d", tenMegabytes)).Output()
	if err != nil || len(want) != tenMegabytes {
		t.Fatalf("compute the expected stream: %d bytes, %v", len(want), err)
	}
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{KMS: true,
		SessionType: protocol.SessionTypeNonInteractiveCommands,
		Command:     fmt.Sprintf("seq 1 2000000 | head -c %d", tenMegabytes)})
	c := openClient(t, s, info)
	res := c.waitEnd()
	got := c.output()
	if len(got) != len(want) || sha256Hex(got) != sha256Hex(want) {
		t.Fatalf("received %d bytes with SHA-256 %s, want %d bytes with %s",
			len(got), sha256Hex(got), len(want), sha256Hex(want))
	}
	if res.ExitCode == nil || *res.ExitCode != 0 {
		t.Errorf("exit code %v, want 0", res.ExitCode)
	}
}

// pasteCommand reads n raw bytes from the terminal and prints their
// SHA-256. READY is quoted so that the echo of the command line does not
// contain it.
func pasteCommand(n int) string {
	return fmt.Sprintf("stty raw -echo; echo RE''ADY; head -c %d | sha256sum; stty sane\r", n)
}

func TestE2EPasteOneMegabyte(t *testing.T) {
	s := startServer(t)
	c := openClient(t, s, newTestSession(t, s, SessionRequest{KMS: true}))
	paste := randomBytes(1, 1<<20)
	c.write([]byte(pasteCommand(len(paste))))
	c.waitOutput("READY")
	c.write(paste)
	c.waitOutput(sha256Hex(paste))
}

func TestE2EUTF8SplitAcrossFrames(t *testing.T) {
	s := startServer(t)
	// 1023 ASCII bytes put the 3-byte euro sign across the first 1024-byte
	// read; the 4-byte emoji crosses the second.
	text := strings.Repeat("a", 1023) + "\u20ac" + strings.Repeat("b", 1020) + "\U0001f600" + "z"
	info := newTestSession(t, s, SessionRequest{
		SessionType: protocol.SessionTypeNonInteractiveCommands,
		Command:     "printf '%s' '" + text + "'"})
	c := openClient(t, s, info)
	c.waitEnd()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out.String() != text {
		t.Fatalf("received %d bytes, want %d", c.out.Len(), len(text))
	}
	for i, p := range c.payloads {
		if !utf8.Valid(p) {
			t.Errorf("payload %d of %d bytes splits a character", i, len(p))
		}
		if len(p) > maxPayload {
			t.Errorf("payload %d has %d bytes, more than %d", i, len(p), maxPayload)
		}
	}
}

func TestE2EExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		command string
		code    int
		stdout  string
		stderr  string
	}{
		{"success", "echo out", 0, "out\n", ""},
		{"failure", "echo out; echo err >&2; exit 3", 3, "out\n", "err\n"},
		{"stderr only", "echo oops >&2; exit 1", 1, "", "oops\n"},
		{"killed by signal", "kill -TERM $$", 143, "", ""},
	}
	s := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := newTestSession(t, s, SessionRequest{
				SessionType: protocol.SessionTypeNonInteractiveCommands, Command: tt.command})
			c := openClient(t, s, info)
			res := c.waitEnd()
			if res.ExitCode == nil {
				t.Fatalf("no exit code; result %+v", res)
			}
			if *res.ExitCode != tt.code {
				t.Errorf("exit code %d, want %d", *res.ExitCode, tt.code)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.out.String() != tt.stdout {
				t.Errorf("stdout of %d bytes, want %d", c.out.Len(), len(tt.stdout))
			}
			if c.stderr.String() != tt.stderr {
				t.Errorf("stderr of %d bytes, want %d", c.stderr.Len(), len(tt.stderr))
			}
		})
	}
}

func TestE2EInteractiveCommand(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{SessionType: protocol.SessionTypeInteractiveCommands,
		Command: "echo asking-$((6*7)); read line; echo got-$line; exit 4"})
	c := openClient(t, s, info)
	c.waitOutput("asking-42")
	c.write([]byte("abc\r"))
	res := c.waitEnd()
	if !bytes.Contains(c.output(), []byte("got-abc")) {
		t.Errorf("the command did not read the input line")
	}
	if !res.Clean {
		t.Errorf("session ended uncleanly: %v", res.Err)
	}
	if res.ExitCode != nil {
		t.Errorf("an InteractiveCommands session reported exit code %d", *res.ExitCode)
	}
}

func TestE2ENonInteractiveInterrupt(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{
		SessionType: protocol.SessionTypeNonInteractiveCommands,
		Command:     "trap 'echo caught; exit 5' INT; echo waiting; while :; do sleep 0.05; done"})
	c := openClient(t, s, info)
	c.waitOutput("waiting")
	c.write([]byte{0x03})
	res := c.waitEnd()
	if res.ExitCode == nil || *res.ExitCode != 5 {
		t.Fatalf("exit code %v, want 5 from the INT trap", res.ExitCode)
	}
	if !bytes.Contains(c.output(), []byte("caught")) {
		t.Errorf("the INT trap did not run")
	}
}

func TestE2EShellExitLeavesBackgroundJob(t *testing.T) {
	s := startServer(t)
	c := openClient(t, s, newTestSession(t, s, SessionRequest{}))
	c.write([]byte("sleep 30 &\r"))
	c.write([]byte("exit\r"))
	res := c.waitEnd()
	if !res.Clean {
		t.Errorf("session ended uncleanly: %v", res.Err)
	}
}
