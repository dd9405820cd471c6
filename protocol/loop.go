package protocol

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// phase is how far a session has come in opening.
type phase int

const (
	phaseFirstMessage phase = iota // waiting for the agent's first message
	phaseHandshake                 // HandshakeRequest received
	phaseKMS                       // waiting for the data key
	phaseChallenge                 // KMS accepted, waiting for the challenge
	phaseOpen                      // ready for input
)

// step returns the Step a failure in phase p is reported as.
func (p phase) step() Step {
	switch p {
	case phaseFirstMessage:
		return StepOpen
	case phaseHandshake:
		return StepHandshake
	case phaseKMS:
		return StepKMS
	case phaseChallenge:
		return StepChallenge
	}
	return StepClosed
}

// loopState is the protocol state, touched only by the session goroutine
// (and by Open before that goroutine starts).
type loopState struct {
	conn   *connection // nil while reconnecting
	gen    int         // generation of conn; events of older ones are stale
	url    string
	state  State
	phase  phase
	paused bool
	ended  bool

	out      outgoingBuffer
	rto      rtoEstimator
	headWait time.Duration // time the head has waited for an ack while active
	lastTick time.Time
	tick     Timer
	openWait Timer // bounds the wait for the agent while opening

	in        incomingBuffer
	enc       *Encrypter
	handshake *handshakeState
	size      sizeState
	exitCode  *int
	recon     *reconnect
}

func (s *Session) initLoopState() {
	s.url = s.cfg.StreamURL
	s.rto = newRTOEstimator()
	s.in = newIncomingBuffer()
	s.size.inFlight = -1
	s.lastTick = s.clock.Now()
}

// run is the session goroutine: it serves events, commands and timers
// until the session ends.
func (s *Session) run() {
	defer s.recoverLoop()
	s.tick = s.clock.NewTimer(ResendInterval)
	s.openWait = s.clock.NewTimer(OpenTimeout)
	for !s.ended {
		s.serveOne()
	}
}

// recoverLoop turns a panic of the session goroutine, a callback's
// included, into the session's error. A second panic while ending the
// session, in OnState for example, still publishes the result.
func (s *Session) recoverLoop() {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("internal error: %v", r)
	res := Result{Reason: err.Error(), Err: &StepError{Step: s.phaseStep(), Err: err}}
	defer func() {
		if recover() != nil {
			s.closeConn(closeNormal, "client error")
			s.publish(res)
		}
	}()
	if !s.ended {
		s.finish(res)
		return
	}
	s.closeConn(closeNormal, "client error")
	s.publish(res)
}

func (s *Session) serveOne() {
	select {
	case ev := <-s.events:
		s.handleEvent(ev)
	case c := <-s.cmds:
		s.runCommand(c)
	case <-s.tick.C():
		s.onTick()
		if !s.ended {
			s.tick = s.clock.NewTimer(ResendInterval)
		}
	case <-timerC(s.recon.backoffTimer()):
		s.startAttempt()
	case <-timerC(s.recon.budgetTimer()):
		s.resumeBudgetSpent()
	case <-timerC(s.openWait):
		s.openTimedOut()
	}
}

// runCommand runs a method's request and always replies, with
// ErrSessionClosed when the request panics.
func (s *Session) runCommand(c command) {
	err := ErrSessionClosed
	defer func() { c.reply <- err }()
	err = c.fn()
}

// openTimedOut fails a session that is still not open OpenTimeout after
// its socket opened. Time spent reconnecting restarts the wait.
func (s *Session) openTimedOut() {
	s.openWait = nil
	switch {
	case s.phase == phaseOpen:
	case s.recon != nil:
		s.openWait = s.clock.NewTimer(OpenTimeout)
	default:
		s.fail(s.phaseStep(), fmt.Errorf("session not ready within %s of opening", OpenTimeout))
	}
}

// timerC returns t's channel, or nil (never ready) when t is nil.
func timerC(t Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

func (s *Session) handleEvent(ev any) {
	switch ev := ev.(type) {
	case frameEvent:
		if ev.gen == s.gen {
			s.handleFrame(ev.data)
		}
	case dropEvent:
		s.onDrop(ev.gen, ev.err)
	case keyEvent:
		s.onDataKey(ev)
	case attemptEvent:
		s.onAttempt(ev)
	case panicEvent:
		s.fail(s.phaseStep(), ev.err)
	}
}

// emit hands ev to the session goroutine unless the session has ended.
func (s *Session) emit(ev any) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

func (s *Session) phaseStep() Step { return s.phase.step() }

// setState records a state change and reports it to Config.OnState.
func (s *Session) setState(sc StateChange) {
	s.state = sc.State
	if s.cfg.OnState != nil {
		s.cfg.OnState(sc)
	}
}

// fail ends the session with err as a *StepError of step.
func (s *Session) fail(step Step, err error) {
	s.finish(Result{Reason: err.Error(), Err: &StepError{Step: step, Err: err}})
}

// finish ends the session: it closes the socket, stops the timers and
// publishes res. Later calls do nothing.
func (s *Session) finish(res Result) {
	if s.ended {
		return
	}
	s.ended = true
	s.closeConn(closeNormal, closeReason(res))
	for _, t := range []Timer{s.tick, s.openWait} {
		if t != nil {
			t.Stop()
		}
	}
	s.recon.stop()
	res.ExitCode = s.exitCode
	s.logEnd(res)

	defer s.publish(res)
	s.setState(StateChange{State: StateClosed, Reason: res.Reason})
}

// publish stores res and closes Done, once. It runs after OnState has
// seen StateClosed, so a caller woken by Done has every state change.
func (s *Session) publish(res Result) {
	s.doneOnce.Do(func() {
		s.mu.Lock()
		s.result = res
		s.mu.Unlock()
		s.cancel()
		close(s.done)
	})
}

// finishBeforeLoop ends a session whose goroutine never started.
func (s *Session) finishBeforeLoop(err *StepError) {
	s.ended = true
	res := Result{Reason: err.Err.Error(), Err: err}
	s.logEnd(res)
	defer s.publish(res)
	s.setState(StateChange{State: StateClosed, Reason: res.Reason})
}

func closeReason(res Result) string {
	if res.Err != nil {
		return "client error"
	}
	return "client closed"
}

func (s *Session) logEnd(res Result) {
	if res.Err != nil {
		s.log.Warn("session ended", "error", res.Err, "drops", s.drops.total())
		return
	}
	s.log.Info("session ended", "reason", res.Reason, "drops", s.drops.total())
}

// dialAndOpen dials url and sends the open message with token.
func (s *Session) dialAndOpen(ctx context.Context, url, token string) (Transport, error) {
	tr, err := s.cfg.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial data channel: %w", err)
	}
	frame, err := json.Marshal(OpenDataChannelInput{
		MessageSchemaVersion: "1.0",
		RequestId:            NewUUID().String(),
		TokenValue:           token,
		ClientId:             s.cfg.ClientID,
		ClientVersion:        s.cfg.ClientVersion,
	})
	if err == nil {
		err = tr.Send(ctx, FrameText, frame)
	}
	if err != nil {
		tr.Close(closeNormal, "open failed")
		return nil, fmt.Errorf("send open message: %w", err)
	}
	return tr, nil
}

// handleFrame routes one frame from the service by message type. The
// message keeps data's bytes, which Transport.Receive hands over.
func (s *Session) handleFrame(data []byte) {
	m, err := unmarshalOwned(data)
	if err != nil {
		s.drops.note(s.log, "invalid frame", "error", err)
		return
	}
	if err := m.Validate(); err != nil {
		reason := "invalid message"
		if errors.Is(err, ErrDigestMismatch) {
			reason = "payload digest mismatch"
		}
		s.drops.note(s.log, reason, "error", err)
		return
	}
	switch m.MessageType {
	case TypeAcknowledge:
		s.handleAck(m)
	case TypeOutputStreamData:
		s.handleStreamData(m)
	case TypeChannelClosed:
		s.handleChannelClosed(m)
	case TypePausePublication:
		s.setPaused(true)
	case TypeStartPublication:
		s.setPaused(false)
	default:
		s.drops.note(s.log, "unknown message type", "type", m.MessageType)
	}
}

// handleChannelClosed ends the session at the service's request. Before
// the session is open, this is a failure of the current step.
func (s *Session) handleChannelClosed(m *Message) {
	var cc ChannelClosed
	if err := json.Unmarshal(m.Payload, &cc); err != nil {
		s.drops.note(s.log, "invalid channel_closed payload", "error", jsonError(err))
	}
	if s.phase != phaseOpen {
		err := fmt.Errorf("channel closed by the service: %q", cc.Output)
		s.finish(Result{Reason: cc.Output, Err: &StepError{Step: s.phaseStep(), Err: err}})
		return
	}
	s.finish(Result{Reason: cc.Output, Clean: true})
}

// onTick runs the retransmission scheduler: it sends what is unsent,
// resends the head when its timeout has passed, and gives up when the head
// has waited too long for an ack.
func (s *Session) onTick() {
	now := s.clock.Now()
	elapsed := now.Sub(s.lastTick)
	s.lastTick = now
	if !s.active() {
		return
	}
	s.flushUnsent()

	head := s.out.head()
	if head == nil {
		s.headWait = 0
		return
	}
	s.headWait += elapsed
	if s.headWait > GiveUpTimeout {
		s.fail(s.phaseStep(), fmt.Errorf("message seq %d unacknowledged for %s: %w",
			head.seq, s.headWait.Round(time.Second), ErrAckTimeout))
		return
	}
	if head.sent && now.Sub(head.lastSent) > s.rto.rto {
		s.resend(head, now)
	}
}

// active reports whether stream data may be sent now.
func (s *Session) active() bool { return s.conn != nil && !s.paused }

func (s *Session) resend(e *outgoingEntry, now time.Time) {
	if !s.conn.send(FrameBinary, e.frame) {
		return
	}
	e.lastSent = now
	e.resends++
	if e.resends == 1 || e.resends%100 == 0 {
		s.log.Debug("retransmitting", "seq", e.seq, "resends", e.resends, "rto", s.rto.rto)
	}
}

// setPaused applies pause_publication and start_publication. Leaving the
// pause sends the queued messages in order.
func (s *Session) setPaused(paused bool) {
	if s.paused == paused {
		return
	}
	s.paused = paused
	s.log.Info("publication changed", "paused", paused)
	if !paused && s.conn != nil {
		s.flushUnsent()
	}
}

// terminate sends the TerminateSession flag of a Port session, then ends
// the session.
func (s *Session) terminate() {
	if s.SessionType() == SessionTypePort && s.phase == phaseOpen {
		flag := []byte{0, 0, 0, byte(FlagTerminateSession)}
		err := s.queueStream(PayloadFlag, flag)
		if err == nil && !s.active() {
			err = errors.New("the channel is paused or reconnecting")
		}
		if err != nil {
			s.log.Warn("terminate flag not sent", "error", err)
		}
	}
	s.finish(Result{Clean: true, Reason: "terminated by the client"})
}

// jsonError describes a JSON decoding error without quoting the input,
// so that logs and errors never carry payload bytes.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var corrupt base64.CorruptInputError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at offset %d", syntax.Offset)
	case errors.As(err, &corrupt):
		return fmt.Errorf("invalid base64 at byte %d of a JSON string", int64(corrupt))
	case errors.As(err, &typ):
		return fmt.Errorf("JSON field %q has type %s, expected %s", typ.Field, typ.Value, typ.Type)
	}
	return errors.New("invalid JSON")
}
