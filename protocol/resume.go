package protocol

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Back-off between reconnect attempts: the first delay is random in
// [100, 200) ms and each later one doubles, up to a cap of 5 s less a
// random quarter.
const (
	backoffBase = 100 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// reconnect is the state of resuming after one drop.
type reconnect struct {
	attempt int
	reason  string
	lastErr error
	backoff Timer // armed between attempts
	budget  Timer // fires when Config.ResumeBudget is spent
	cancel  context.CancelFunc
}

// attemptEvent is the result of one reconnect attempt.
type attemptEvent struct {
	attempt int
	tr      Transport
	url     string
	expired bool
	err     error
}

func (r *reconnect) backoffTimer() Timer {
	if r == nil {
		return nil
	}
	return r.backoff
}

func (r *reconnect) budgetTimer() Timer {
	if r == nil {
		return nil
	}
	return r.budget
}

func (r *reconnect) stop() {
	if r == nil {
		return
	}
	if r.backoff != nil {
		r.backoff.Stop()
	}
	r.budget.Stop()
	if r.cancel != nil {
		r.cancel()
	}
}

// onDrop handles the loss of the connection of generation gen: it resumes
// the session through Config.Resume, or ends it when there is none.
func (s *Session) onDrop(gen int, err error) {
	if gen != s.gen || s.conn == nil || s.ended {
		return
	}
	reason := dropReason(err)
	s.closeConn(closeNormal, "reconnecting")
	if s.cfg.Resume == nil {
		s.log.Warn("connection lost", "reason", reason)
		s.fail(s.phaseStep(), fmt.Errorf("connection lost: %w", err))
		return
	}
	s.log.Info("connection lost, resuming", "reason", reason,
		"budget", s.cfg.ResumeBudget)
	s.recon = &reconnect{reason: reason, lastErr: err,
		budget: s.clock.NewTimer(s.cfg.ResumeBudget)}
	s.startAttempt()
}

func dropReason(err error) string {
	var ce *CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("closed with code %d: %s", ce.Code, ce.Reason)
	}
	return err.Error()
}

// startAttempt starts one attempt: Resume, dial and open message, on a
// separate goroutine.
func (s *Session) startAttempt() {
	r := s.recon
	r.attempt++
	r.backoff = nil
	s.setState(StateChange{State: StateReconnecting, Attempt: r.attempt, Reason: r.reason})
	s.log.Info("reconnect attempt", "attempt", r.attempt)

	ctx, cancel := context.WithCancel(s.ctx)
	r.cancel = cancel
	go s.runAttempt(ctx, r.attempt, s.url)
}

func (s *Session) runAttempt(ctx context.Context, attempt int, url string) {
	defer s.recoverInto("reconnect")
	ev := attemptEvent{attempt: attempt}
	res, err := s.cfg.Resume(ctx)
	switch {
	case err != nil:
		ev.err = fmt.Errorf("resume session: %w", err)
	case res.TokenValue == "":
		ev.expired = true
	default:
		if res.StreamURL != "" {
			url = res.StreamURL
		}
		ev.url = url
		ev.tr, ev.err = s.dialAndOpen(ctx, url, res.TokenValue)
	}
	select {
	case s.events <- ev:
	case <-s.done:
		if ev.tr != nil {
			ev.tr.Close(closeNormal, "session ended")
		}
	}
}

// onAttempt takes the result of an attempt: it attaches the new
// connection, ends the session on an empty token, or backs off.
func (s *Session) onAttempt(ev attemptEvent) {
	r := s.recon
	if r == nil || ev.attempt != r.attempt {
		if ev.tr != nil {
			go ev.tr.Close(closeNormal, "stale reconnect")
		}
		return
	}
	r.cancel()
	switch {
	case ev.expired:
		s.fail(StepClosed, ErrSessionExpired)
	case ev.err != nil:
		r.lastErr = ev.err
		delay := backoffDelay(r.attempt)
		s.log.Warn("reconnect attempt failed", "attempt", r.attempt, "error", ev.err,
			"retry_in", delay)
		r.backoff = s.clock.NewTimer(delay)
	default:
		s.resumed(ev)
	}
}

// resumed continues the session on the new connection with all of its
// state. Nothing is replayed: the scheduler retransmits the unacked head.
func (s *Session) resumed(ev attemptEvent) {
	attempts := s.recon.attempt
	s.recon.stop()
	s.recon = nil
	s.url = ev.url
	s.attach(ev.tr)
	s.log.Info("reconnected", "attempts", attempts)
	if s.phase == phaseOpen {
		s.setState(StateChange{State: StateOpen})
	} else {
		s.setState(StateChange{State: StateHandshaking})
	}
	if !s.paused {
		s.flushUnsent()
	}
}

// resumeBudgetSpent ends a session that could not reconnect in time.
func (s *Session) resumeBudgetSpent() {
	r := s.recon
	s.fail(StepClosed, fmt.Errorf("reconnect failed within %s after %d attempts: %w",
		s.cfg.ResumeBudget, r.attempt, r.lastErr))
}

// backoffDelay returns the delay after failed attempt n (from 1).
func backoffDelay(n int) time.Duration {
	d := backoffBase + rand.N(backoffBase)
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	if d >= backoffMax {
		d = backoffMax - rand.N(backoffMax/4)
	}
	return d
}
