package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// currentRTO reads the session's retransmission timeout on its goroutine.
func currentRTO(t *testing.T, s *Session) time.Duration {
	t.Helper()
	var rto time.Duration
	if err := s.call(func() error { rto = s.rto.rto; return nil }); err != nil {
		t.Fatal(err)
	}
	return rto
}

func TestRetransmitHeadOnly(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	s.Write([]byte("a"))
	first := a.nextFrame()
	s.Write([]byte("b"))
	a.nextData()
	rto := currentRTO(t, s)

	h.clock.Advance(t, rto) // not yet overdue: the rule is now-lastSent > RTO
	a.expectNothing()
	h.clock.Advance(t, ResendInterval)
	again := a.nextFrame()
	if !bytes.Equal(again.data, first.data) {
		t.Fatal("retransmission differs from the original frame")
	}
	a.expectNothing() // only the head is resent

	h.clock.Advance(t, ResendInterval) // lastSent was updated by the resend
	a.expectNothing()
	h.clock.Advance(t, rto)
	if f := a.nextFrame(); !bytes.Equal(f.data, first.data) {
		t.Fatal("second retransmission differs from the original frame")
	}
}

func TestAckUpdatesRTOAndHead(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	before := currentRTO(t, s)
	s.Write([]byte("a"))
	m := a.nextData()
	h.clock.Advance(t, 50*time.Millisecond)
	a.ack(m)
	a.expectNothing()
	after := currentRTO(t, s)
	if after == before {
		t.Errorf("RTO stayed %s after an ack with a 50ms round trip", before)
	}
	h.clock.Advance(t, 2*time.Second)
	a.expectNothing() // acked, so never resent
}

func TestPauseAndStartPublication(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	s.Write([]byte("a"))
	head := a.nextFrame()

	a.sendControl(TypePausePublication, nil)
	a.expectNothing()
	s.Write([]byte("b"))
	s.Write([]byte("c"))
	h.clock.Advance(t, 2*time.Second)
	a.expectNothing() // no new data and no retransmission while paused

	a.sendControl(TypeStartPublication, nil)
	for _, want := range []string{"b", "c"} {
		if m := a.nextData(); string(m.Payload) != want {
			t.Fatalf("after start: %q, want %q", m.Payload, want)
		}
	}
	h.clock.Advance(t, 2*time.Second)
	if f := a.nextFrame(); !bytes.Equal(f.data, head.data) {
		t.Fatal("head not retransmitted after start_publication")
	}
}

func TestFreshOutputEndsPause(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	a.sendControl(TypePausePublication, nil)
	a.expectNothing()
	s.Write([]byte("q"))
	a.expectNothing()
	a.send(PayloadOutput, []byte("x"))
	if m := a.nextData(); string(m.Payload) != "q" {
		t.Fatalf("queued input %q", m.Payload)
	}
	a.nextAck()
}

func TestGiveUpDeadline(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	s.Write([]byte("a"))
	a.nextData()

	a.sendControl(TypePausePublication, nil)
	a.expectNothing()
	h.clock.Advance(t, GiveUpTimeout+time.Minute) // paused: the clock is stopped
	a.sendControl(TypeStartPublication, nil)
	a.expectNothing()
	h.clock.Advance(t, GiveUpTimeout-time.Minute)
	if _, err := s.Write([]byte("b")); err != nil {
		t.Fatalf("session ended before the deadline: %v", err)
	}
	h.clock.Advance(t, 2*time.Minute)
	res := waitDone(t, s)
	var se *StepError
	if !errors.As(res.Err, &se) || se.Step != StepClosed || !errors.Is(res.Err, ErrAckTimeout) {
		t.Errorf("result error = %v, want ErrAckTimeout in a closed step", res.Err)
	}
	if res.Clean {
		t.Error("give-up reported as clean")
	}
}

func TestSizeCoalescing(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	s.Resize(100, 30)
	first := a.nextData()
	if string(first.Payload) != `{"cols":100,"rows":30}` {
		t.Fatalf("size %s", first.Payload)
	}
	s.Resize(110, 30)
	s.Resize(120, 40)
	a.expectNothing()
	a.ack(first)
	if m := a.nextData(); string(m.Payload) != `{"cols":120,"rows":40}` {
		t.Fatalf("coalesced size %s", m.Payload)
	} else {
		a.ack(m)
	}
	s.Resize(120, 40)
	a.expectNothing() // unchanged
	for _, bad := range [][2]int{{0, 10}, {10, -1}, {70000, 10}} {
		if err := s.Resize(bad[0], bad[1]); err == nil {
			t.Errorf("Resize(%d, %d) accepted", bad[0], bad[1])
		}
	}
}

func TestWriteSplitsPayloads(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	input := bytes.Repeat([]byte("0123456789"), 250)
	if n, err := s.Write(input); n != len(input) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	var got []byte
	for i, want := range []int{1024, 1024, 452} {
		m := a.nextData()
		if len(m.Payload) != want || m.SequenceNumber != int64(1+i) {
			t.Fatalf("message %d: %d bytes seq %d, want %d bytes seq %d", i,
				len(m.Payload), m.SequenceNumber, want, 1+i)
		}
		got = append(got, m.Payload...)
	}
	if !bytes.Equal(got, input) {
		t.Error("payloads do not reassemble the input")
	}
	if n, err := s.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v", n, err)
	}
	a.expectNothing()
}

func TestWriteBufferFull(t *testing.T) {
	h := newHarness(t, nil)
	s, _ := h.openPlain(SessionTypeStandardStream)
	// The handshake response was acked, so the whole buffer is free.
	big := make([]byte, OutgoingCapacity*MaxPayloadSize)
	if _, err := s.Write(big); err != nil {
		t.Fatalf("Write of a full buffer: %v", err)
	}
	if n, err := s.Write([]byte("x")); !errors.Is(err, ErrBufferFull) || n != 0 {
		t.Errorf("Write past capacity = %d, %v, want ErrBufferFull", n, err)
	}
	tooBig := make([]byte, OutgoingCapacity*MaxPayloadSize+1)
	if _, err := s.Write(tooBig); err == nil || errors.Is(err, ErrBufferFull) {
		t.Errorf("Write larger than the buffer = %v, want a permanent error", err)
	}
}

func TestExitCodeAndStderr(t *testing.T) {
	tests := []struct {
		payload string
		want    *int
	}{
		{"EXIT_CODE: 0", intPtr(0)},
		{"EXIT_CODE: -1", intPtr(-1)},
		{"EXIT_CODE: 127\n", intPtr(127)},
		{"EXIT_CODE: x", nil},
		{"EXIT_CODE: +5", nil},
		{"EXIT_CODE: ", nil},
		{"EXIT_CODE: 99999999999999999999", nil},
		{"exit 3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			h := newHarness(t, nil)
			s, a := h.openPlain(SessionTypeNonInteractiveCommands)
			a.send(PayloadStdErr, []byte("warn"))
			a.nextAck()
			a.send(PayloadExitCode, []byte(tt.payload))
			a.nextAck()
			a.channelClosed("")
			res := waitDone(t, s)
			if (res.ExitCode == nil) != (tt.want == nil) ||
				res.ExitCode != nil && *res.ExitCode != *tt.want {
				t.Errorf("exit code %v, want %v", res.ExitCode, tt.want)
			}
			if got := h.rec.output(); got != "" {
				t.Errorf("output %q, want the exit code kept out", got)
			}
			h.rec.mu.Lock()
			defer h.rec.mu.Unlock()
			if string(h.rec.stderr) != "warn" {
				t.Errorf("stderr %q", h.rec.stderr)
			}
		})
	}
}

func intPtr(n int) *int { return &n }

func TestChannelClosed(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	a.channelClosed("Your session timed out due to inactivity.")
	res := waitDone(t, s)
	if !res.Clean || res.Err != nil || res.Reason != "Your session timed out due to inactivity." {
		t.Errorf("result = %+v", res)
	}
	<-a.conn.closed
	if code, _ := a.conn.closeStatus(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
	states := h.rec.stateList()
	if last := states[len(states)-1]; last.State != StateClosed {
		t.Errorf("last state %v", last)
	}
	calls := []func() error{s.Close, s.Terminate,
		func() error { return s.Resize(1, 1) },
		func() error { return s.Resize(0, 0) },
		func() error { _, err := s.Write(nil); return err },
	}
	for _, call := range calls {
		if err := call(); err != ErrSessionClosed {
			t.Errorf("call after the end = %v, want ErrSessionClosed", err)
		}
	}
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		sessionType string
		wantFlag    bool
	}{
		{SessionTypePort, true},
		{SessionTypeStandardStream, false},
	}
	for _, tt := range tests {
		t.Run(tt.sessionType, func(t *testing.T) {
			h := newHarness(t, nil)
			s, a := h.openPlain(tt.sessionType)
			if err := s.Terminate(); err != nil {
				t.Fatal(err)
			}
			if tt.wantFlag {
				m := a.nextData()
				if m.PayloadType != PayloadFlag || !bytes.Equal(m.Payload, []byte{0, 0, 0, 2}) {
					t.Errorf("flag message type %d payload %x", m.PayloadType, m.Payload)
				}
			}
			<-a.conn.closed
			select {
			case f := <-a.conn.fromClient:
				t.Errorf("frame of %d bytes after the flag", len(f.data))
			default:
			}
			res := waitDone(t, s)
			if !res.Clean || !strings.Contains(res.Reason, "terminated") {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestStateChanges(t *testing.T) {
	h := newHarness(t, nil)
	s, _ := h.openPlain(SessionTypeStandardStream)
	s.Close()
	waitDone(t, s)
	var got []State
	for _, sc := range h.rec.stateList() {
		got = append(got, sc.State)
	}
	want := []State{StateConnecting, StateHandshaking, StateOpen, StateClosed}
	if len(got) != len(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("states %v, want %v", got, want)
		}
	}
}
