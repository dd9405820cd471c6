//go:build !js

package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// exchange runs a shell script that reads pasteSize raw bytes and prints
// their SHA-256, then prints lines of seq, and checks both directions byte
// for byte. The terminal echoes the paste, which paces the writes: at most
// two pieces are unacknowledged, so a dropped socket loses little input.
type exchange struct {
	pasteSize int
	lines     int
	seed      int64
}

// pastePiece is the size of one paced write of the exchange.
const pastePiece = 2048

func (x exchange) run(t *testing.T, c *e2eClient) {
	t.Helper()
	paste := printableBytes(x.seed, x.pasteSize)
	want, err := exec.Command("seq", "1", fmt.Sprint(x.lines)).Output()
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "END\n"...)

	script := fmt.Sprintf("stty raw; echo RE''ADY; head -c %d | sha256sum; "+
		"seq 1 %d; echo E''ND; stty sane\r", x.pasteSize, x.lines)
	c.write([]byte(script))
	c.waitOutput("READY")
	start := c.outputLen()
	for off := 0; off < len(paste); off += pastePiece {
		c.write(paste[off:min(off+pastePiece, len(paste))])
		if off >= pastePiece {
			echoed := start + off
			c.waitFor("paste echo", func() bool { return c.out.Len() >= echoed })
		}
	}
	c.waitOutput("END\n")

	out := c.output()
	if !bytes.Contains(out, paste) {
		t.Errorf("the echo of the %d-byte paste did not arrive intact", len(paste))
	}
	if !bytes.Contains(out, []byte(sha256Hex(paste))) {
		t.Errorf("the shell did not receive the %d-byte paste intact", len(paste))
	}
	if !bytes.Contains(out, want) {
		t.Errorf("the %d bytes of seq output did not arrive intact in %d bytes of output",
			len(want), len(out))
	}
}

// printableBytes returns n deterministic pseudo-random letters and digits.
func printableBytes(seed int64, n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := randomBytes(seed, n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return b
}

func TestE2EFaultsKeepStreamsExact(t *testing.T) {
	tests := []struct {
		name   string
		kms    bool
		faults []Fault
	}{
		{"reorder", false, []Fault{{Kind: FaultReorder, Window: 8}}},
		{"duplicate", true, []Fault{{Kind: FaultDuplicate, Every: 5}}},
		{"drop", false, []Fault{{Kind: FaultDrop, Every: 7}}},
		{"corrupt digest", true, []Fault{{Kind: FaultCorruptDigest, Every: 9}}},
		{"pause", false, []Fault{{Kind: FaultPause, After: 20, DurationMs: 300}}},
		{"close socket", true, []Fault{{Kind: FaultCloseSocket, After: 50}}},
		{"new stream url", false, []Fault{{Kind: FaultCloseSocket, After: 50},
			{Kind: FaultNewStreamURL}}},
		{"drop socket at output", false,
			[]Fault{{Kind: FaultDropSocket, At: DropAtOutput, Count: 5, Every: 20}}},
		{"drop socket at paste", true,
			[]Fault{{Kind: FaultDropSocket, At: DropAtPaste, Count: 5, Every: 20}}},
		{"drop socket at random", false,
			[]Fault{{Kind: FaultDropSocket, At: DropAtRandom, Count: 10, Every: 25, Seed: 3}}},
		{"all at once", true, []Fault{{Kind: FaultReorder, Window: 4},
			{Kind: FaultDuplicate, Every: 6}, {Kind: FaultDrop, Every: 11},
			{Kind: FaultCorruptDigest, Every: 13},
			{Kind: FaultDropSocket, At: DropAtRandom, Count: 5, Every: 40}}},
	}
	s := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info := newTestSession(t, s, SessionRequest{KMS: tt.kms, Faults: tt.faults})
			c := openClient(t, s, info)
			exchange{pasteSize: 100 << 10, lines: 20000, seed: 7}.run(t, c)
			if tt.name == "new stream url" {
				checkCell(t, s.session(info.SessionID), "1")
			}
		})
	}
}

func TestE2EPeriodicClose(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{
		Faults: []Fault{{Kind: FaultPeriodicClose, IntervalMs: 700}}})
	c := openClient(t, s, info)
	c.write([]byte("for i in $(seq 1 25); do echo tick-$i; sleep 0.1; done; echo fin''ished\r"))
	c.waitOutput("finished")
	out := c.output()
	for i := 1; i <= 25; i++ {
		if !bytes.Contains(out, []byte(fmt.Sprintf("tick-%d\r\n", i))) {
			t.Errorf("line %d is missing", i)
		}
	}
	c.mu.Lock()
	reconnects := c.reconnects
	c.mu.Unlock()
	if reconnects < 2 {
		t.Errorf("%d reconnects in 2.5 s with a 0.7 s periodic close, want at least 2", reconnects)
	}
}

func TestE2EReconnectHundredDrops(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{KMS: true,
		Faults: []Fault{{Kind: FaultDropSocket, At: DropAtRandom, Count: 100, Every: 10, Seed: 42}}})
	c := openClient(t, s, info)
	exchange{pasteSize: 512 << 10, lines: 100000, seed: 11}.run(t, c)

	// Keep output flowing until all 100 drops have fired.
	for round := 0; dropsLeft(s.session(info.SessionID)) > 0; round++ {
		marker := fmt.Sprintf("more-%d", round)
		c.write([]byte(fmt.Sprintf("seq 1 5000; echo mo''re-%d\r", round)))
		c.waitOutput(marker)
	}
	c.waitFor("100 reconnects", func() bool { return c.reconnects >= 100 })
}

// dropsLeft returns how many drops the session's drop-socket fault has
// still to fire.
func dropsLeft(a *agent) int {
	a.faults.mu.Lock()
	defer a.faults.mu.Unlock()
	return a.faults.find(FaultDropSocket).remaining
}

func TestE2EDropDuringHandshake(t *testing.T) {
	for _, at := range []string{DropAtHandshake, DropAtChallenge} {
		t.Run(at, func(t *testing.T) {
			s := startServer(t)
			info := newTestSession(t, s, SessionRequest{KMS: true,
				Faults: []Fault{{Kind: FaultDropSocket, At: at, Count: 2}}})
			c := openClient(t, s, info)
			c.write([]byte("echo after-drop-$((6*7))\r"))
			c.waitOutput("after-drop-42")
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.reconnects < 2 {
				t.Errorf("%d reconnects, want 2", c.reconnects)
			}
		})
	}
}

func TestE2EChannelClosedFault(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{
		Faults: []Fault{{Kind: FaultChannelClosed, After: 3, Reason: "closed for the test"}}})
	c := openClient(t, s, info)
	c.write([]byte("seq 1 100000\r"))
	res := c.waitEnd()
	if res.Reason != "closed for the test" {
		t.Errorf("result reason %q, want the fault's reason", res.Reason)
	}
	if !res.Clean {
		t.Errorf("channel_closed ended the session uncleanly: %v", res.Err)
	}
}

func TestE2EHandshakeFailures(t *testing.T) {
	tests := []struct {
		name   string
		req    SessionRequest
		reason string
	}{
		// The agent's channel_closed text is checked by
		// TestRawHandshakeFailureText; the client may end Open first.
		{"unknown action", SessionRequest{Faults: []Fault{{Kind: FaultFailHandshake}}},
			unknownActionType},
		{"wrong challenge", SessionRequest{KMS: true,
			Faults: []Fault{{Kind: FaultWrongChallenge, DurationMs: 300}}},
			"Timed out waiting for encryption challenge."},
	}
	s := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := newTestSession(t, s, tt.req)
			_, err := tryOpenClient(t, s, info)
			if err == nil {
				t.Fatalf("the session opened despite the fault")
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("open error %q does not contain %q", err, tt.reason)
			}
		})
	}
}

func TestE2ERefusedResume(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{Faults: []Fault{
		{Kind: FaultRefuseResume}, {Kind: FaultCloseSocket, After: 3}}})
	c := openClient(t, s, info)
	c.write([]byte("seq 1 1000\r"))
	res := c.waitEnd()
	if !errors.Is(res.Err, protocol.ErrSessionExpired) {
		t.Errorf("result error %v, want ErrSessionExpired", res.Err)
	}
}

func TestE2EResumeBudgetExpires(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{Faults: []Fault{{Kind: FaultCloseSocket, After: 3}}})
	unreachable := func(c *protocol.Config) {
		c.Resume = func(context.Context) (protocol.ResumeResult, error) {
			return protocol.ResumeResult{}, errors.New("resume service unreachable")
		}
	}
	c := openClient(t, s, info, unreachable, withResumeBudget(500*time.Millisecond))
	c.write([]byte("seq 1 1000\r"))
	res := c.waitEnd()
	if res.Clean || res.Err == nil {
		t.Errorf("result %+v, want an unclean end after the resume budget", res)
	}
}

func TestE2EStopAcking(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{Faults: []Fault{{Kind: FaultStopAcking, After: 1}}})
	c := openClient(t, s, info)
	c.write([]byte("echo acked-$((1+1))\r"))
	c.waitOutput("acked-2")
	c.write([]byte("echo ignored-$((1+1))\r"))
	if err := s.Terminate(info.SessionID); err != nil {
		t.Fatal(err)
	}
	c.waitEnd()
	if bytes.Contains(c.output(), []byte("ignored-2")) {
		t.Errorf("input after stop-acking reached the shell")
	}
}

func TestE2EFaultsBeforeCommandExit(t *testing.T) {
	want, err := exec.Command("seq", "1", "20000").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{KMS: true,
		SessionType: protocol.SessionTypeNonInteractiveCommands, Command: "seq 1 20000",
		Faults: []Fault{{Kind: FaultDrop}, {Kind: FaultCorruptDigest}}})
	c := openClient(t, s, info)
	res := c.waitEnd()
	if got := c.output(); !bytes.Equal(got, want) {
		t.Errorf("received %d bytes, want the %d bytes of seq", len(got), len(want))
	}
	if res.ExitCode == nil || *res.ExitCode != 0 {
		t.Errorf("exit code %v, want 0", res.ExitCode)
	}
}

// checkCell checks the cell-number of the StreamUrl that the session's
// current connection used.
func checkCell(t *testing.T, a *agent, want string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn == nil {
		t.Fatalf("no client connected")
	}
	if a.conn.cell != want {
		t.Errorf("client connected with cell-number %q, want %q", a.conn.cell, want)
	}
}

func TestE2EInteractiveCommandExitDuringDrops(t *testing.T) {
	want, err := exec.Command("seq", "1", "50000").Output()
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.ReplaceAll(want, []byte("\n"), []byte("\r\n")) // the pty's onlcr setting
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{
		SessionType: protocol.SessionTypeInteractiveCommands, Command: "seq 1 50000",
		Faults: []Fault{{Kind: FaultDropSocket, At: DropAtOutput, Count: 8, Every: 40}}})
	c := openClient(t, s, info)
	res := c.waitEnd()
	if got := c.output(); !bytes.Equal(got, want) {
		t.Errorf("received %d bytes, want the %d bytes of seq", len(got), len(want))
	}
	if !res.Clean {
		t.Errorf("session ended uncleanly: %v", res.Err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reconnects < 5 {
		t.Errorf("%d reconnects, want at least 5 of the 8 drops", c.reconnects)
	}
}
