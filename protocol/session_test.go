package protocol

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOpenWithoutHandshake(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Cols, c.Rows = 80, 24 })
	a := h.start()
	a.send(PayloadOutput, []byte("$ "))
	s := h.opened()

	if got := a.nextAck(); got.AcknowledgedMessageSequenceNumber != 0 {
		t.Errorf("ack seq = %d, want 0", got.AcknowledgedMessageSequenceNumber)
	}
	if got := string(h.rec.waitOutput(t)); got != "$ " {
		t.Errorf("output = %q, want %q", got, "$ ")
	}
	if got := s.SessionType(); got != SessionTypeStandardStream {
		t.Errorf("session type = %q", got)
	}
	size := a.nextData()
	if size.PayloadType != PayloadSize || size.SequenceNumber != 0 {
		t.Fatalf("first client message: type %d seq %d, want Size seq 0",
			size.PayloadType, size.SequenceNumber)
	}
	if string(size.Payload) != `{"cols":80,"rows":24}` {
		t.Errorf("size payload = %s", size.Payload)
	}

	if _, err := s.Write([]byte("ls\r")); err != nil {
		t.Fatal(err)
	}
	in := a.nextData()
	if in.PayloadType != PayloadOutput || in.SequenceNumber != 1 || string(in.Payload) != "ls\r" {
		t.Errorf("input: type %d seq %d payload %q", in.PayloadType, in.SequenceNumber, in.Payload)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	res := waitDone(t, s)
	if !res.Clean || res.Err != nil {
		t.Errorf("result = %+v, want clean", res)
	}
	if _, err := s.Write([]byte("x")); err != ErrSessionClosed {
		t.Errorf("Write after Close: %v, want ErrSessionClosed", err)
	}
}

func TestOpenPlainHandshake(t *testing.T) {
	h := newHarness(t, nil)
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest, handshakeRequest(SessionTypeInteractiveCommands))
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != 0 {
		t.Fatalf("handshake ack seq %d", ack.AcknowledgedMessageSequenceNumber)
	}
	resp := a.nextData()
	if resp.PayloadType != PayloadHandshakeResponse || resp.SequenceNumber != 0 {
		t.Fatalf("response type %d seq %d", resp.PayloadType, resp.SequenceNumber)
	}
	want := `{"ClientVersion":"1.2.764.0","ProcessedClientActions":[{"ActionType":` +
		`"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}`
	if string(resp.Payload) != want {
		t.Errorf("response = %s\nwant %s", resp.Payload, want)
	}
	a.ack(resp)

	a.sendJSON(PayloadHandshakeComplete, HandshakeComplete{CustomerMessage: "welcome"})
	a.nextAck()
	s := h.opened()
	if s.CustomerMessage() != "welcome" || s.SessionType() != SessionTypeInteractiveCommands {
		t.Errorf("customer message %q, type %q", s.CustomerMessage(), s.SessionType())
	}
	if s.Encrypted() {
		t.Error("Encrypted() = true for a plaintext session")
	}

	a.send(PayloadOutput, []byte("hello"))
	a.nextAck()
	if got := h.rec.waitOutput(t); !bytes.Equal(got, []byte("hello")) {
		t.Errorf("output %q", got)
	}
}

// TestSessionGoroutinesExit checks that a closed session leaves no
// goroutine behind: the event loop, reader, writer and reconnect attempt.
func TestSessionGoroutinesExit(t *testing.T) {
	before := runtime.NumGoroutine()
	h, r := resumeHarness(t)
	s, a := h.openPlain(SessionTypeStandardStream)
	a.conn.drop <- &CloseError{Code: 1001, Reason: "going away"}
	r.waitCall(t) // the attempt now waits in Resume
	s.Close()
	waitDone(t, s)

	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before,
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStatePanicEndsSession(t *testing.T) {
	tests := []struct {
		name    string
		panicOn State
		inOpen  bool
	}{
		{"while connecting", StateConnecting, true},
		{"while opening", StateOpen, false},
		{"while closing", StateClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.cfg.OnState = func(sc StateChange) {
				if sc.State == tt.panicOn {
					panic("state callback failed")
				}
			}
			if tt.inOpen {
				_, err := Open(context.Background(), h.cfg)
				if err == nil || !strings.Contains(err.Error(), "state callback failed") {
					t.Errorf("Open error %v, want the panic", err)
				}
				return
			}
			a := h.start()
			a.send(PayloadOutput, []byte("$ "))
			r := h.openResult()
			s := r.s
			if r.err != nil {
				if !strings.Contains(r.err.Error(), "state callback failed") {
					t.Errorf("Open error %v, want the panic", r.err)
				}
				return
			}
			s.Close()
			res := waitDone(t, s)
			if res.Err == nil && !res.Clean {
				t.Errorf("result %+v", res)
			}
		})
	}
}
