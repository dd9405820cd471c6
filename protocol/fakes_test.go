package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait of a test for the client goroutines. It is
// a deadlock guard, not protocol timing: protocol time comes from
// fakeClock.
const waitTimeout = 10 * time.Second

// fakeClock is a Clock that moves only when a test advances it. Advance
// hands each due timer's tick to the session goroutine before returning.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan time.Duration // the duration of every new timer
}

type fakeTimer struct {
	clock    *fakeClock
	deadline time.Time
	c        chan time.Time
	stopped  chan struct{}
	once     sync.Once
	fired    bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		created: make(chan time.Duration, 100000)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, deadline: c.now.Add(d), c: make(chan time.Time),
		stopped: make(chan struct{})}
	c.timers = append(c.timers, t)
	select {
	case c.created <- d:
	default:
	}
	return t
}

// waitTimerOf waits until a timer of duration d is created.
func (c *fakeClock) waitTimerOf(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case got := <-c.created:
			if got == d {
				return
			}
		case <-deadline:
			t.Fatalf("no timer of %s was created", d)
		}
	}
}

// waitTimer waits until a timer other than the scheduler's tick, the open
// timeout and the resume budget is created, and returns its duration.
func (c *fakeClock) waitTimer(t *testing.T) time.Duration {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case d := <-c.created:
			if d != ResendInterval && d != DefaultResumeBudget && d != OpenTimeout {
				return d
			}
		case <-deadline:
			t.Fatal("no timer was created")
			return 0
		}
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	wasActive := !t.fired
	t.fired = true
	t.clock.mu.Unlock()
	t.once.Do(func() { close(t.stopped) })
	return wasActive
}

// Advance moves the clock by d and delivers every timer that falls due,
// in deadline order, waiting until the receiver takes each tick.
func (c *fakeClock) Advance(t *testing.T, d time.Duration) {
	t.Helper()
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, tm := range c.timers {
		switch {
		case tm.fired:
		case !tm.deadline.After(now):
			tm.fired = true
			due = append(due, tm)
		default:
			kept = append(kept, tm)
		}
	}
	c.timers = kept
	c.mu.Unlock()

	sort.Slice(due, func(i, j int) bool { return due[i].deadline.Before(due[j].deadline) })
	for _, tm := range due {
		select {
		case tm.c <- now:
		case <-tm.stopped:
		case <-time.After(waitTimeout):
			t.Fatalf("fake clock: timer due at %s was never received", tm.deadline)
		}
	}
}

// sentFrame is a frame the client sent.
type sentFrame struct {
	kind FrameKind
	data []byte
}

// fakeConn is an in-memory Transport. The test plays the service and the
// agent through its channels.
type fakeConn struct {
	url        string
	toClient   chan []byte
	fromClient chan sentFrame
	drop       chan error
	closed     chan struct{}
	closeOnce  sync.Once
	mu         sync.Mutex
	closeCode  int
	closeText  string
}

func newFakeConn(url string) *fakeConn {
	return &fakeConn{
		url:        url,
		toClient:   make(chan []byte, 100),
		fromClient: make(chan sentFrame, 20000),
		drop:       make(chan error, 1),
		closed:     make(chan struct{}),
	}
}

var errFakeClosed = errors.New("fake connection closed")

func (c *fakeConn) Send(ctx context.Context, kind FrameKind, data []byte) error {
	select {
	case <-c.closed:
		return errFakeClosed
	default:
	}
	c.fromClient <- sentFrame{kind: kind, data: append([]byte(nil), data...)}
	return nil
}

func (c *fakeConn) Receive(ctx context.Context) (FrameKind, []byte, error) {
	select {
	case data := <-c.toClient:
		return FrameBinary, data, nil
	case err := <-c.drop:
		return 0, nil, err
	case <-c.closed:
		return 0, nil, errFakeClosed
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

func (c *fakeConn) Close(code int, reason string) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closeCode, c.closeText = code, reason
		c.mu.Unlock()
		close(c.closed)
	})
	return nil
}

func (c *fakeConn) closeStatus() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode, c.closeText
}

// fakeDialer hands out a fakeConn per dial and passes it to the test.
type fakeDialer struct {
	conns chan *fakeConn
	fail  chan error // an error here fails the next dial
}

func newFakeDialer() *fakeDialer {
	return &fakeDialer{conns: make(chan *fakeConn, 10), fail: make(chan error, 10)}
}

func (d *fakeDialer) Dial(ctx context.Context, url string) (Transport, error) {
	select {
	case err := <-d.fail:
		return nil, err
	default:
	}
	c := newFakeConn(url)
	d.conns <- c
	return c, nil
}

// agent plays the agent and the service on one fakeConn.
type agent struct {
	t    *testing.T
	conn *fakeConn
	seq  int64
}

func (d *fakeDialer) accept(t *testing.T) *agent {
	t.Helper()
	select {
	case c := <-d.conns:
		return &agent{t: t, conn: c}
	case <-time.After(waitTimeout):
		t.Fatal("no dial")
		return nil
	}
}

// readOpen reads the open message.
func (a *agent) readOpen() OpenDataChannelInput {
	a.t.Helper()
	f := a.nextFrame()
	if f.kind != FrameText {
		a.t.Fatalf("first frame kind = %d, want text", f.kind)
	}
	var in OpenDataChannelInput
	if err := json.Unmarshal(f.data, &in); err != nil {
		a.t.Fatalf("open message: %v", err)
	}
	return in
}

func (a *agent) nextFrame() sentFrame {
	a.t.Helper()
	select {
	case f := <-a.conn.fromClient:
		return f
	case <-time.After(waitTimeout):
		a.t.Fatal("no frame from the client")
		return sentFrame{}
	}
}

// next reads the next binary message.
func (a *agent) next() *Message {
	a.t.Helper()
	f := a.nextFrame()
	m, err := Unmarshal(f.data)
	if err != nil {
		a.t.Fatalf("client frame: %v", err)
	}
	if err := m.Validate(); err != nil {
		a.t.Fatalf("client frame: %v", err)
	}
	return m
}

// nextData reads the next input_stream_data, skipping acks.
func (a *agent) nextData() *Message {
	a.t.Helper()
	for {
		m := a.next()
		if m.MessageType == TypeInputStreamData {
			return m
		}
	}
}

// nextAck reads the next message and requires an ack.
func (a *agent) nextAck() AcknowledgeContent {
	a.t.Helper()
	m := a.next()
	if m.MessageType != TypeAcknowledge {
		a.t.Fatalf("got %s payload type %d, want an ack", m.MessageType, m.PayloadType)
	}
	if m.Flags != FlagAck || m.SequenceNumber != 0 || m.PayloadType != PayloadNone {
		a.t.Fatalf("ack header: flags %d seq %d type %d", m.Flags, m.SequenceNumber,
			m.PayloadType)
	}
	var ack AcknowledgeContent
	if err := json.Unmarshal(m.Payload, &ack); err != nil {
		a.t.Fatalf("ack payload: %v", err)
	}
	return ack
}

// expectNothing requires that the client sends nothing before the ack
// of a probe: a duplicate with sequence number -1, which the client acks
// again without any other effect. Frames are handled in order, so the
// probe's ack comes after anything the earlier frames caused.
func (a *agent) expectNothing() {
	a.t.Helper()
	probe := a.sendAt(-1, PayloadOutput, []byte("probe"))
	m := a.next()
	if m.MessageType != TypeAcknowledge {
		a.t.Fatalf("unexpected %s seq %d payload type %d", m.MessageType,
			m.SequenceNumber, m.PayloadType)
	}
	var ack AcknowledgeContent
	if err := json.Unmarshal(m.Payload, &ack); err != nil {
		a.t.Fatal(err)
	}
	if ack.AcknowledgedMessageId != probe.MessageID.String() {
		a.t.Fatalf("unexpected ack of seq %d", ack.AcknowledgedMessageSequenceNumber)
	}
}

// sendAt sends output_stream_data with sequence number seq.
func (a *agent) sendAt(seq int64, t PayloadType, payload []byte) *Message {
	a.t.Helper()
	m := &Message{
		MessageType:    TypeOutputStreamData,
		SchemaVersion:  1,
		CreatedDate:    1700000000000,
		SequenceNumber: seq,
		MessageID:      NewUUID(),
		PayloadType:    t,
		Payload:        payload,
	}
	a.sendMessage(m)
	return m
}

// send sends output_stream_data with the agent's next sequence number.
func (a *agent) send(t PayloadType, payload []byte) *Message {
	a.t.Helper()
	m := a.sendAt(a.seq, t, payload)
	a.seq++
	return m
}

func (a *agent) sendJSON(t PayloadType, v any) *Message {
	a.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.send(t, b)
}

func (a *agent) sendMessage(m *Message) {
	a.t.Helper()
	frame, err := m.Marshal()
	if err != nil {
		a.t.Fatal(err)
	}
	a.sendRaw(frame)
}

func (a *agent) sendRaw(frame []byte) {
	a.conn.toClient <- frame
}

// sendControl sends a message of type typ with no sequence.
func (a *agent) sendControl(typ string, payload []byte) {
	a.t.Helper()
	a.sendMessage(&Message{MessageType: typ, SchemaVersion: 1, CreatedDate: 1700000000000,
		MessageID: NewUUID(), Payload: payload})
}

// ack acknowledges a client message.
func (a *agent) ack(m *Message) {
	a.t.Helper()
	b, _ := json.Marshal(AcknowledgeContent{
		AcknowledgedMessageType:           m.MessageType,
		AcknowledgedMessageId:             m.MessageID.String(),
		AcknowledgedMessageSequenceNumber: m.SequenceNumber,
		IsSequentialMessage:               true,
	})
	a.sendMessage(&Message{MessageType: TypeAcknowledge, SchemaVersion: 1,
		CreatedDate: 1700000000000, Flags: FlagAck, MessageID: NewUUID(), Payload: b})
}

func (a *agent) channelClosed(output string) {
	a.t.Helper()
	b, _ := json.Marshal(ChannelClosed{MessageType: TypeChannelClosed, Output: output,
		SchemaVersion: 1})
	a.sendControl(TypeChannelClosed, b)
}

// recorder collects what the session hands to its callbacks.
type recorder struct {
	mu      sync.Mutex
	out     []byte
	stderr  []byte
	states  []StateChange
	outCh   chan []byte
	stateCh chan StateChange
}

func newRecorder() *recorder {
	return &recorder{outCh: make(chan []byte, 1000), stateCh: make(chan StateChange, 1000)}
}

// waitState waits for a change to state and returns it.
func (r *recorder) waitState(t *testing.T, state State) StateChange {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case sc := <-r.stateCh:
			if sc.State == state {
				return sc
			}
		case <-deadline:
			t.Fatalf("no change to state %s", state)
			return StateChange{}
		}
	}
}

func (r *recorder) onOutput(p []byte) {
	r.mu.Lock()
	r.out = append(r.out, p...)
	r.mu.Unlock()
	r.outCh <- p
}

func (r *recorder) onStderr(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stderr = append(r.stderr, p...)
}

func (r *recorder) onState(sc StateChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, sc)
	r.stateCh <- sc
}

func (r *recorder) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.out)
}

func (r *recorder) stateList() []StateChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StateChange(nil), r.states...)
}

func (r *recorder) waitOutput(t *testing.T) []byte {
	t.Helper()
	select {
	case p := <-r.outCh:
		return p
	case <-time.After(waitTimeout):
		t.Fatal("no output")
		return nil
	}
}

// harness runs one session against a fake dialer and clock.
type harness struct {
	t      *testing.T
	cfg    Config
	dialer *fakeDialer
	clock  *fakeClock
	rec    *recorder
	openCh chan openResult
}

type openResult struct {
	s   *Session
	err error
}

func newHarness(t *testing.T, edit func(*Config)) *harness {
	h := &harness{t: t, dialer: newFakeDialer(), clock: newFakeClock(), rec: newRecorder(),
		openCh: make(chan openResult, 1)}
	h.cfg = Config{
		StreamURL:  "wss://ssmmessages.example/v1/data-channel/s-1?role=publish_subscribe",
		TokenValue: "token-1",
		SessionID:  "s-1",
		TargetID:   "i-0123",
		Dial:       h.dialer.Dial,
		OnOutput:   h.rec.onOutput,
		OnStderr:   h.rec.onStderr,
		OnState:    h.rec.onState,
		Clock:      h.clock,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&h.cfg)
	}
	return h
}

// start runs Open in the background and returns the agent of its
// connection after reading the open message.
func (h *harness) start() *agent {
	h.t.Helper()
	go func() {
		s, err := Open(context.Background(), h.cfg)
		h.openCh <- openResult{s, err}
	}()
	a := h.dialer.accept(h.t)
	a.readOpen()
	return a
}

func (h *harness) opened() *Session {
	h.t.Helper()
	r := h.openResult()
	if r.err != nil {
		h.t.Fatalf("Open: %v", r.err)
	}
	h.t.Cleanup(func() { r.s.Close() })
	return r.s
}

func (h *harness) openResult() openResult {
	h.t.Helper()
	select {
	case r := <-h.openCh:
		return r
	case <-time.After(waitTimeout):
		h.t.Fatal("Open did not return")
		return openResult{}
	}
}

// openPlain opens a session through a plaintext handshake of sessionType
// and returns it with its agent, past HandshakeComplete.
func (h *harness) openPlain(sessionType string) (*Session, *agent) {
	h.t.Helper()
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest, handshakeRequest(sessionType))
	a.nextAck()
	resp := a.nextData()
	a.ack(resp)
	a.sendJSON(PayloadHandshakeComplete, HandshakeComplete{CustomerMessage: "hi"})
	a.nextAck()
	return h.opened(), a
}

func handshakeRequest(sessionType string, extra ...RequestedClientAction) HandshakeRequest {
	params, _ := json.Marshal(SessionTypeRequest{SessionType: sessionType})
	return HandshakeRequest{
		AgentVersion: "3.3.987.0",
		RequestedClientActions: append([]RequestedClientAction{
			{ActionType: ActionSessionType, ActionParameters: params},
		}, extra...),
	}
}

func waitDone(t *testing.T, s *Session) Result {
	t.Helper()
	select {
	case <-s.Done():
		return s.Result()
	case <-time.After(waitTimeout):
		t.Fatal("session did not end")
		return Result{}
	}
}
