//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// maxWriteChunk is the largest piece of page input handed to
// Session.Write at once, so that a large paste fits the engine's outgoing
// buffer piece by piece instead of failing as a whole.
const maxWriteChunk = 64 << 10

// maxPending is the number of bytes of Output, and separately of StdErr,
// kept for a first subscriber. A page subscribes right after startSession
// resolves, so little arrives before that. The limit stops a page that
// never subscribes to StdErr from keeping all of it.
const maxPending = 1 << 20

// writeRetry is how long the writer waits before retrying input that the
// engine's outgoing buffer had no room for.
const writeRetry = 50 * time.Millisecond

// subscriber kinds.
const (
	subData = iota
	subStderr
	subState
	subKinds
)

// session is the bridge state of one protocol session.
type session struct {
	id        int
	sessionID string
	log       *slog.Logger

	// onStateChange is the option of that name, a function or undefined.
	onStateChange js.Value

	exceptions atomic.Int64 // thrown by subscribers

	closed, resolveClosed js.Value // the promise of closed(handle)

	mu       sync.Mutex
	sess     *protocol.Session // nil until Open returns
	state    protocol.State
	ended    bool
	subs     [subKinds]map[int]js.Value
	nextSub  int
	pending  [subStderr + 1][][]byte // output before the first subscriber
	kept     [subStderr + 1]int      // bytes in pending
	dropped  [subStderr + 1]bool     // pending overflowed
	input    [][]byte                // page input not yet given to the engine
	inputSig chan struct{}
}

func newSession(id int, o *startOptions) *session {
	s := &session{
		id:            id,
		sessionID:     o.cfg.SessionID,
		log:           newConsoleLogger(o.level),
		onStateChange: o.onStateChange,
		state:         protocol.StateConnecting,
		inputSig:      make(chan struct{}, 1),
	}
	for i := range s.subs {
		s.subs[i] = make(map[int]js.Value)
	}
	s.closed, s.resolveClosed, _ = newPromise()
	return s
}

// open runs protocol.Open and settles the promise of startSession. It runs
// in its own goroutine and reports whether the session opened.
func (s *session) open(o *startOptions, resolve, reject js.Value) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("internal error: %w", panicError(r))
			s.log.Error("recovered from a panic while opening", "err", err)
			s.end(protocol.Result{Reason: err.Error(), Err: err})
			reject.Invoke(newError("OpenError", err.Error()))
			ok = false
		}
	}()

	cfg := o.cfg
	cfg.Dial = Dial
	cfg.Logger = s.log
	cfg.OnOutput = func(p []byte) { s.deliver(subData, p) }
	cfg.OnStderr = func(p []byte) { s.deliver(subStderr, p) }
	cfg.OnState = s.changeState

	sess, err := protocol.Open(context.Background(), cfg)
	if err != nil {
		s.log.Info("session failed to open", "err", err)
		s.end(protocol.Result{Reason: err.Error(), Err: err})
		reject.Invoke(openErrorToJS(err))
		return false
	}

	s.mu.Lock()
	s.sess = sess
	s.mu.Unlock()
	go s.writeInput()
	go s.wait()
	resolve.Invoke(s.id)
	return true
}

// wait settles the closed promise when the session ends.
func (s *session) wait() {
	defer s.recoverEnd("waiting for the end")
	<-s.sess.Done()
	s.end(s.sess.Result())
}

// end marks the session closed, reports the closed state if the engine
// has not, resolves the closed promise and drops the subscribers. Output
// kept for a first subscriber stays, so a page that subscribes after a
// short session has ended still gets its output. Only the first call has
// an effect.
func (s *session) end(res protocol.Result) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.mu.Unlock()

	s.changeState(protocol.StateChange{State: protocol.StateClosed,
		Reason: res.Reason})
	s.resolveClosed.Invoke(resultToJS(res))

	s.mu.Lock()
	for i := range s.subs {
		clear(s.subs[i])
	}
	s.input = nil
	s.mu.Unlock()
	s.signalInput()
}

// recoverEnd ends the session with an error when a goroutine of the
// session panics. Use it as: defer s.recoverEnd("what").
func (s *session) recoverEnd(what string) {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("internal error %s: %w", what, panicError(r))
	s.log.Error("recovered from a panic", "err", err)
	if s.sess != nil {
		s.sess.Close()
	}
	s.end(protocol.Result{Reason: err.Error(), Err: err})
}

// deliver hands an Output or StdErr payload to the page's subscribers, or
// keeps it until the first one subscribes. It runs on the engine's
// goroutine and owns p.
func (s *session) deliver(kind int, p []byte) {
	s.mu.Lock()
	if len(s.subs[kind]) == 0 {
		s.keep(kind, p)
		s.mu.Unlock()
		return
	}
	fns := subscribers(s.subs[kind])
	s.mu.Unlock()

	s.callAll(fns, bytesToJS(p))
}

// keep stores p for the first subscriber of kind, up to maxPending bytes.
// The caller holds s.mu.
func (s *session) keep(kind int, p []byte) {
	if s.kept[kind]+len(p) <= maxPending {
		s.pending[kind] = append(s.pending[kind], p)
		s.kept[kind] += len(p)
		return
	}
	if !s.dropped[kind] {
		s.dropped[kind] = true
		s.log.Warn("output dropped: nothing subscribed to it",
			"stream", map[int]string{subData: "output", subStderr: "stderr"}[kind],
			"limit_bytes", maxPending)
	}
}

// changeState reports a state change to the subscribers and to the
// onStateChange option. The closed state is reported once, whether the
// engine or end reports it first.
func (s *session) changeState(c protocol.StateChange) {
	s.mu.Lock()
	if s.state == protocol.StateClosed {
		s.mu.Unlock()
		return
	}
	s.state = c.State
	fns := subscribers(s.subs[subState])
	s.mu.Unlock()

	if !s.onStateChange.IsUndefined() {
		fns = append(fns, s.onStateChange)
	}
	s.log.Debug("state changed", "state", stateName(c.State), "attempt", c.Attempt)
	s.callAll(fns, stateChangeToJS(c))
}

// callAll calls each subscriber with v. A subscriber that throws does not
// stop the others or the session. Exceptions are logged at counts 1, 2, 4,
// 8 and so on, so that one that throws on every payload does not flood
// the console.
func (s *session) callAll(fns []js.Value, v js.Value) {
	for _, fn := range fns {
		if _, err := callJS(fn, v); err != nil {
			if n := s.exceptions.Add(1); n&(n-1) == 0 {
				s.log.Warn("a subscriber threw an exception", "err", err, "count", n)
			}
		}
	}
}

func subscribers(m map[int]js.Value) []js.Value {
	fns := make([]js.Value, 0, len(m))
	for _, fn := range m {
		fns = append(fns, fn)
	}
	return fns
}

// subscribe adds fn as a subscriber and returns its id. Payloads kept for
// the first subscriber are handed to fn before subscribe returns.
func (s *session) subscribe(kind int, fn js.Value) int {
	s.mu.Lock()
	s.nextSub++
	id := s.nextSub
	var kept [][]byte
	if !s.ended {
		s.subs[kind][id] = fn
	}
	if kind != subState {
		kept = s.pending[kind]
		s.pending[kind] = nil
		s.kept[kind] = 0
	}
	s.mu.Unlock()

	for _, p := range kept {
		s.callAll([]js.Value{fn}, bytesToJS(p))
	}
	return id
}

func (s *session) unsubscribe(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.subs {
		delete(s.subs[i], id)
	}
}

// errSessionEnded is reported to the page for input to an ended session.
var errSessionEnded = errors.New("session is closed")

// queueInput appends page input for the writer goroutine. It never
// blocks, so it is safe inside a callback from JavaScript.
func (s *session) queueInput(p []byte) error {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return errSessionEnded
	}
	for len(p) > 0 {
		n := min(len(p), maxWriteChunk)
		s.input = append(s.input, p[:n])
		p = p[n:]
	}
	s.mu.Unlock()
	s.signalInput()
	return nil
}

func (s *session) signalInput() {
	select {
	case s.inputSig <- struct{}{}:
	default:
	}
}

// writeInput gives queued input to the engine in order, retrying while
// its outgoing buffer is full. It runs until the session ends.
func (s *session) writeInput() {
	defer s.recoverEnd("writing input")
	for {
		p, ok := s.nextInput()
		if !ok {
			return
		}
		if !s.write(p) {
			return
		}
	}
}

// nextInput waits for the next piece of input. It returns false when the
// session has ended.
func (s *session) nextInput() ([]byte, bool) {
	for {
		s.mu.Lock()
		if s.ended {
			s.mu.Unlock()
			return nil, false
		}
		if len(s.input) > 0 {
			p := s.input[0]
			s.input[0] = nil
			s.input = s.input[1:]
			s.mu.Unlock()
			return p, true
		}
		s.mu.Unlock()
		<-s.inputSig
	}
}

func (s *session) write(p []byte) bool {
	for {
		_, err := s.sess.Write(p)
		switch {
		case err == nil:
			return true
		case !errors.Is(err, protocol.ErrBufferFull):
			s.log.Info("input dropped: the session has ended", "err", err)
			return false
		}

		t := time.NewTimer(writeRetry)
		select {
		case <-t.C:
		case <-s.sess.Done():
			t.Stop()
			return false
		}
	}
}

// resize requests a new terminal size from the engine in a goroutine, because
// the engine call waits for the session's goroutine, which may be
// delivering output to the very callback that called resize.
func (s *session) resize(cols, rows int) js.Value {
	s.mu.Lock()
	ended := s.ended
	s.mu.Unlock()
	if ended {
		return newTypeError("resize: session handle %d: %v", s.id, errSessionEnded)
	}
	go func() {
		defer s.recoverEnd("resizing")
		if err := s.sess.Resize(cols, rows); err != nil {
			s.log.Info("resize failed", "cols", cols, "rows", rows, "err", err)
		}
	}()
	return js.Undefined()
}

// terminate ends the session in a goroutine, for the reason given at
// resize. For an ended session it does nothing.
func (s *session) terminate() {
	go func() {
		defer s.recoverEnd("terminating")
		if err := s.sess.Terminate(); err != nil &&
			!errors.Is(err, protocol.ErrSessionClosed) {
			s.log.Info("terminate failed", "err", err)
		}
	}()
}

// info returns the session's properties for the page.
func (s *session) info() js.Value {
	s.mu.Lock()
	sess, state := s.sess, s.state
	s.mu.Unlock()

	v := jsObject.New()
	v.Set("sessionId", s.sessionID)
	v.Set("state", stateName(state))
	if sess != nil {
		v.Set("customerMessage", sess.CustomerMessage())
		v.Set("encrypted", sess.Encrypted())
		v.Set("sessionType", sess.SessionType())
	}
	return v
}

func stateName(s protocol.State) string {
	switch s {
	case protocol.StateConnecting:
		return "connecting"
	case protocol.StateHandshaking:
		return "handshaking"
	case protocol.StateOpen:
		return "open"
	case protocol.StateReconnecting:
		return "reconnecting"
	case protocol.StateClosed:
		return "closed"
	}
	return "unknown"
}

func stateChangeToJS(c protocol.StateChange) js.Value {
	v := jsObject.New()
	v.Set("state", stateName(c.State))
	v.Set("attempt", c.Attempt)
	v.Set("reason", c.Reason)
	return v
}

func resultToJS(r protocol.Result) js.Value {
	v := jsObject.New()
	if r.ExitCode != nil {
		v.Set("exitCode", *r.ExitCode)
	} else {
		v.Set("exitCode", js.Null())
	}
	v.Set("reason", r.Reason)
	v.Set("clean", r.Clean)
	return v
}

// openErrorToJS converts an error of protocol.Open to an Error named after
// the step that failed.
func openErrorToJS(err error) js.Value {
	name := "OpenError"
	var se *protocol.StepError
	if errors.As(err, &se) {
		switch se.Step {
		case protocol.StepHandshake:
			name = "HandshakeError"
		case protocol.StepKMS:
			name = "KMSError"
		case protocol.StepChallenge:
			name = "ChallengeError"
		case protocol.StepClosed:
			name = "ClosedError"
		}
	}
	msg := err.Error()
	if errors.Is(err, protocol.ErrNoKeyProvider) {
		msg = "kms: the agent requires KMS encryption, but startSession got no kms option"
	}
	return newError(name, msg)
}
