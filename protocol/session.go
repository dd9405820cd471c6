package protocol

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// NOTE: API skeleton. The engine behind it is being written; every
// signature and doc comment here is the contract other packages code against.

// DefaultClientVersion is the ClientVersion sent in the open message and
// the HandshakeResponse. Agents compare it numerically, so it must stay a
// four-part number at or above the service's minimum (1.2.764.0).
const DefaultClientVersion = "1.2.764.0"

// State is a stage of a session's life.
type State int

// States, in the order a session normally passes through them.
const (
	StateConnecting State = iota + 1
	StateHandshaking
	StateOpen
	StateReconnecting
	StateClosed
)

// StateChange is reported to Config.OnState.
type StateChange struct {
	State   State
	Attempt int    // reconnect attempt, from 1, in StateReconnecting
	Reason  string // why the socket dropped, or why the session closed
}

// Step names the stage of Open that failed, for *StepError.
type Step string

// Steps of opening a session.
const (
	StepOpen      Step = "open"
	StepHandshake Step = "handshake"
	StepKMS       Step = "kms"
	StepChallenge Step = "challenge"
	StepClosed    Step = "closed"
)

// StepError is the error of Open and of a session that ends abnormally.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return string(e.Step) + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// ErrSessionClosed is returned by methods of a session that has ended.
var ErrSessionClosed = errors.New("session closed")

// ResumeResult is what Config.Resume returns: normally the output of SSM
// ResumeSession. An empty TokenValue means the session is over. An empty
// StreamURL keeps the previous one.
type ResumeResult struct {
	StreamURL  string
	TokenValue string
}

// Config describes one session.
type Config struct {
	StreamURL  string // StreamUrl of StartSession, used as given
	TokenValue string
	SessionID  string
	TargetID   string // the agent's instance id, part of the KMS context

	ClientID      string // generated when empty; kept across reconnects
	ClientVersion string // DefaultClientVersion when empty

	Dial Dialer // required

	// KeyProvider serves KMS sessions. Without one, a session whose agent
	// asks for KMS fails its handshake.
	KeyProvider KeyProvider

	// RequireEncryption rejects a session whose agent does not ask for KMS.
	RequireEncryption bool

	// Cols and Rows are the initial terminal size, sent after the
	// handshake. Zero sends none until Resize.
	Cols, Rows int

	// Resume, when set, is called after the socket drops to get a new
	// token and StreamUrl. Without it the session ends at the first drop.
	Resume func(ctx context.Context) (ResumeResult, error)

	// ResumeBudget bounds the time spent reconnecting after one drop.
	// Zero means two minutes.
	ResumeBudget time.Duration

	// OnOutput receives Output payloads in order; OnStderr receives StdErr
	// payloads. Both may be nil. They run on the session's goroutine, must
	// not block, and own the slice they are given.
	OnOutput func(p []byte)
	OnStderr func(p []byte)

	// OnState receives every state change. It must not block.
	OnState func(StateChange)

	Clock  Clock        // SystemClock when nil
	Logger *slog.Logger // slog.Default() when nil
}

// Result is how a session ended.
type Result struct {
	ExitCode *int   // from an ExitCode message, if one arrived
	Reason   string // the channel_closed Output, or why the session failed
	Clean    bool   // true when the service closed the channel or the caller closed it
	Err      error  // nil when Clean
}

// Session is an open data channel.
type Session struct {
}

// Open dials cfg.StreamURL, sends the open message and returns once the
// session is ready for input: after HandshakeComplete when the agent
// performs a handshake, else after its first Output. Errors are
// *StepError.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	return nil, &StepError{Step: StepOpen, Err: errors.New("not implemented")}
}

// Write sends p as input, split into payloads of at most 1024 bytes. It
// queues while the session reconnects or is paused and returns an error
// when the queue is full or the session has ended.
func (s *Session) Write(p []byte) (int, error) { return 0, ErrSessionClosed }

// Resize requests a terminal size. Requests are coalesced.
func (s *Session) Resize(cols, rows int) error { return ErrSessionClosed }

// Terminate ends the session: a Port session sends the TerminateSession
// flag first; every session then closes its socket.
func (s *Session) Terminate() error { return ErrSessionClosed }

// Close closes the socket without resuming.
func (s *Session) Close() error { return ErrSessionClosed }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return nil }

// Result returns how the session ended; it is valid after Done is closed.
func (s *Session) Result() Result { return Result{} }

// SessionType returns the session type from the handshake, or
// Standard_Stream when there was none.
func (s *Session) SessionType() string { return "" }

// CustomerMessage returns the CustomerMessage of HandshakeComplete.
func (s *Session) CustomerMessage() string { return "" }

// Encrypted reports whether the session uses KMS encryption.
func (s *Session) Encrypted() bool { return false }
