package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeResume is a Config.Resume that returns the results the test queues,
// one per call.
type fakeResume struct {
	mu      sync.Mutex
	calls   int
	called  chan int
	answers chan resumeAnswer
}

type resumeAnswer struct {
	res ResumeResult
	err error
}

func newFakeResume() *fakeResume {
	return &fakeResume{called: make(chan int, 100), answers: make(chan resumeAnswer, 100)}
}

func (r *fakeResume) Resume(ctx context.Context) (ResumeResult, error) {
	r.mu.Lock()
	r.calls++
	n := r.calls
	r.mu.Unlock()
	r.called <- n
	select {
	case a := <-r.answers:
		return a.res, a.err
	case <-ctx.Done():
		return ResumeResult{}, ctx.Err()
	}
}

func (r *fakeResume) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func (r *fakeResume) waitCall(t *testing.T) int {
	t.Helper()
	select {
	case n := <-r.called:
		return n
	case <-time.After(waitTimeout):
		t.Fatal("Resume was not called")
		return 0
	}
}

func resumeHarness(t *testing.T) (*harness, *fakeResume) {
	r := newFakeResume()
	h := newHarness(t, func(c *Config) {
		c.Resume = r.Resume
		c.ClientID = "client-1"
	})
	return h, r
}

func TestReconnectKeepsState(t *testing.T) {
	h, r := resumeHarness(t)
	s, a := h.openPlain(SessionTypeStandardStream)

	s.Write([]byte("a")) // seq 1, never acked before the drop
	unacked := a.nextFrame()
	base := a.seq
	a.sendAt(base+2, PayloadOutput, []byte("c")) // stored and acked
	a.nextAck()

	a.conn.drop <- &CloseError{Code: 1000, Reason: "Bye"}
	sc := h.rec.waitState(t, StateReconnecting)
	if sc.Attempt != 1 || !strings.Contains(sc.Reason, "Bye") {
		t.Errorf("reconnecting state %+v", sc)
	}
	r.waitCall(t)
	s.Write([]byte("q1")) // queued during the reconnect
	s.Write([]byte("q2"))
	const newURL = "wss://ssmmessages.example/v1/data-channel/s-1?role=publish_subscribe&cell-number=2"
	r.answers <- resumeAnswer{res: ResumeResult{StreamURL: newURL, TokenValue: "token-2"}}

	b := h.dialer.accept(t)
	if b.conn.url != newURL {
		t.Errorf("reconnected to %q, want the new StreamURL", b.conn.url)
	}
	in := b.readOpen()
	if in.TokenValue != "token-2" || in.ClientId != "client-1" || in.MessageSchemaVersion != "1.0" {
		t.Errorf("open message: token ok %v, client %q", in.TokenValue == "token-2", in.ClientId)
	}
	h.rec.waitState(t, StateOpen)
	b.seq = base

	for _, want := range []string{"q1", "q2"} {
		m := b.nextData()
		if string(m.Payload) != want {
			t.Fatalf("queued input %q, want %q", m.Payload, want)
		}
	}
	h.clock.Advance(t, time.Second)
	if f := b.nextFrame(); !bytes.Equal(f.data, unacked.data) {
		t.Fatal("unacked head not retransmitted byte-identical after the reconnect")
	}
	b.send(PayloadOutput, []byte("a"))
	b.nextAck()
	b.send(PayloadOutput, []byte("b"))
	b.nextAck()
	b.expectNothing()
	if got := h.rec.output(); got != "abc" {
		t.Errorf("output %q, want the stored message delivered after the gap", got)
	}
	s.Write([]byte("z"))
	if m := b.nextData(); m.SequenceNumber != 4 {
		t.Errorf("next input seq %d, want 4: the counter continues", m.SequenceNumber)
	}
}

func TestReconnectNewRequestID(t *testing.T) {
	r := newFakeResume()
	h := newHarness(t, func(c *Config) { c.Resume = r.Resume })
	go Open(context.Background(), h.cfg)
	a := h.dialer.accept(t)
	first := a.readOpen()
	a.send(PayloadOutput, []byte("$ "))
	a.nextAck()

	a.conn.drop <- errors.New("connection reset")
	r.waitCall(t)
	r.answers <- resumeAnswer{res: ResumeResult{TokenValue: "token-2"}}
	b := h.dialer.accept(t)
	second := b.readOpen()
	if second.RequestId == first.RequestId {
		t.Error("reconnect reused the RequestId")
	}
	if second.ClientId != first.ClientId || first.ClientId == "" {
		t.Errorf("ClientId %q then %q, want the same", first.ClientId, second.ClientId)
	}
	if b.conn.url != h.cfg.StreamURL {
		t.Errorf("url %q, want the previous one when Resume returns none", b.conn.url)
	}
}

func TestReconnectEnds(t *testing.T) {
	tests := []struct {
		name    string
		resume  bool
		answer  func(t *testing.T, h *harness, r *fakeResume)
		wantErr error
		want    string
	}{
		{"no Resume", false, nil, nil, "connection lost"},
		{"empty token", true, func(t *testing.T, h *harness, r *fakeResume) {
			r.waitCall(t)
			r.answers <- resumeAnswer{}
		}, ErrSessionExpired, "no token"},
		{"budget spent", true, func(t *testing.T, h *harness, r *fakeResume) {
			r.waitCall(t)
			r.answers <- resumeAnswer{err: errors.New("throttled")}
			h.clock.Advance(t, h.clock.waitTimer(t))
			r.waitCall(t)
			r.answers <- resumeAnswer{err: errors.New("throttled")}
			h.clock.waitTimer(t)
			h.clock.Advance(t, DefaultResumeBudget)
		}, nil, "reconnect failed within 2m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, r := resumeHarness(t)
			if !tt.resume {
				h.cfg.Resume = nil
			}
			s, a := h.openPlain(SessionTypeStandardStream)
			a.conn.drop <- errors.New("connection reset")
			if tt.answer != nil {
				tt.answer(t, h, r)
			}
			res := waitDone(t, s)
			var se *StepError
			if !errors.As(res.Err, &se) || se.Step != StepClosed {
				t.Fatalf("result error %v, want a StepError of step closed", res.Err)
			}
			if tt.wantErr != nil && !errors.Is(res.Err, tt.wantErr) {
				t.Errorf("result error %v, want %v", res.Err, tt.wantErr)
			}
			if !strings.Contains(res.Err.Error(), tt.want) || res.Clean {
				t.Errorf("result %+v, want an error containing %q", res, tt.want)
			}
		})
	}
}

func TestReconnectBacksOff(t *testing.T) {
	h, r := resumeHarness(t)
	_, a := h.openPlain(SessionTypeStandardStream)
	a.conn.drop <- errors.New("connection reset")
	var delays []time.Duration
	for attempt := 1; attempt <= 6; attempt++ {
		if n := r.waitCall(t); n != attempt {
			t.Fatalf("Resume call %d, want %d", n, attempt)
		}
		r.answers <- resumeAnswer{err: errors.New("throttled")}
		d := h.clock.waitTimer(t)
		delays = append(delays, d)
		h.clock.Advance(t, d)
	}
	for i := 1; i < len(delays); i++ {
		if delays[i] < delays[i-1] && delays[i] < backoffMax*3/4 {
			t.Errorf("delays %v do not grow up to the cap", delays)
		}
	}
	if delays[0] < 100*time.Millisecond || delays[0] >= 200*time.Millisecond {
		t.Errorf("first delay %s, want [100ms, 200ms)", delays[0])
	}
	if n := r.waitCall(t); n != 7 {
		t.Fatalf("Resume call %d, want 7", n)
	}
	states := h.rec.stateList()
	if last := states[len(states)-1]; last.State != StateReconnecting || last.Attempt != 7 {
		t.Errorf("last state %+v, want reconnecting attempt 7", last)
	}
}

func TestReconnectDuringOpen(t *testing.T) {
	h, r := resumeHarness(t)
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest, handshakeRequest(SessionTypeStandardStream))
	a.nextAck()
	resp := a.nextFrame()
	a.conn.drop <- errors.New("connection reset")
	h.rec.waitState(t, StateReconnecting)
	r.waitCall(t)
	r.answers <- resumeAnswer{res: ResumeResult{TokenValue: "token-2"}}
	b := h.dialer.accept(t)
	b.readOpen()
	h.rec.waitState(t, StateHandshaking)
	h.clock.Advance(t, time.Second)
	if f := b.nextFrame(); !bytes.Equal(f.data, resp.data) {
		t.Fatal("handshake response not retransmitted after the reconnect")
	}
	b.seq = 1
	b.sendJSON(PayloadHandshakeComplete, HandshakeComplete{})
	b.nextAck()
	h.opened()
}

func TestCloseDoesNotResume(t *testing.T) {
	h, r := resumeHarness(t)
	s, a := h.openPlain(SessionTypeStandardStream)
	s.Close()
	<-a.conn.closed
	res := waitDone(t, s)
	if !res.Clean || res.Err != nil {
		t.Errorf("result %+v, want clean", res)
	}
	if r.count() != 0 {
		t.Errorf("Resume called %d times after Close", r.count())
	}
}

func TestOpenDialFailure(t *testing.T) {
	h := newHarness(t, nil)
	h.dialer.fail <- errors.New("refused")
	_, err := Open(context.Background(), h.cfg)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepOpen || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Open error %v, want a StepError of step open", err)
	}
}

func TestOpenCanceled(t *testing.T) {
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		a := h.dialer.accept(t)
		a.readOpen()
		cancel()
	}()
	_, err := Open(ctx, h.cfg)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepOpen || !errors.Is(err, context.Canceled) {
		t.Errorf("Open error %v, want a canceled StepError of step open", err)
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no dialer", func(c *Config) { c.Dial = nil }},
		{"no url", func(c *Config) { c.StreamURL = "" }},
		{"no token", func(c *Config) { c.TokenValue = "" }},
		{"negative size", func(c *Config) { c.Cols = -1 }},
		{"negative budget", func(c *Config) { c.ResumeBudget = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.edit)
			_, err := Open(context.Background(), h.cfg)
			var se *StepError
			if !errors.As(err, &se) || se.Step != StepOpen {
				t.Errorf("Open error %v, want a StepError of step open", err)
			}
		})
	}
}

func TestCallbackPanicEndsSession(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.OnOutput = func(p []byte) {
			if string(p) == "x" {
				panic("boom")
			}
		}
	})
	s, a := h.openPlain(SessionTypeStandardStream)
	a.send(PayloadOutput, []byte("x"))
	res := waitDone(t, s)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "boom") {
		t.Errorf("result error %v, want the panic", res.Err)
	}
}

func TestOpenTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	h.clock.waitTimerOf(t, OpenTimeout)
	h.clock.Advance(t, OpenTimeout)
	se := checkOpenStep(t, h, StepOpen)
	if !strings.Contains(se.Error(), "not ready within") {
		t.Errorf("error %q", se)
	}
}

func TestJSONErrorHidesInput(t *testing.T) {
	for _, input := range []string{`{"secret`, `{"AcknowledgedMessageSequenceNumber":"secret"}`, `secret`} {
		var ack AcknowledgeContent
		err := jsonError(json.Unmarshal([]byte(input), &ack))
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "'s'") {
			t.Errorf("jsonError(%q) = %q quotes the input", input, err)
		}
	}
}

func TestJSONErrorNamesBase64(t *testing.T) {
	var c EncChallenge
	err := jsonError(json.Unmarshal([]byte(`{"Challenge":"not*base64"}`), &c))
	if !strings.Contains(err.Error(), "invalid base64") {
		t.Errorf("jsonError = %q, want it to name invalid base64", err)
	}
	if strings.Contains(err.Error(), "not*base64") {
		t.Errorf("jsonError = %q quotes the input", err)
	}
}
