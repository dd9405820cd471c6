package protocol

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

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
	Reason  string // the cause of the socket drop or of the session end
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
	// requests KMS fails its handshake.
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
	// not block, and own the slice they are given. A callback must not
	// call the Session's methods, which wait for that goroutine.
	OnOutput func(p []byte)
	OnStderr func(p []byte)

	// OnState receives every state change. It must not block or call the
	// Session's methods.
	OnState func(StateChange)

	Clock  Clock        // SystemClock when nil
	Logger *slog.Logger // slog.Default() when nil
}

// Result is the outcome of a session.
type Result struct {
	ExitCode *int   // from an ExitCode message, if one arrived
	Reason   string // the channel_closed Output, or why the session failed
	Clean    bool   // true when the service closed the channel or the caller closed it
	Err      error  // nil when Clean
}

// String returns the lower-case name of the state.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateHandshaking:
		return "handshaking"
	case StateOpen:
		return "open"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// ErrSessionExpired is the cause of a session that ended because Resume
// returned an empty token: the service has timed out or terminated it.
var ErrSessionExpired = errors.New("session expired or terminated: resume returned no token")

// OpenTimeout bounds the wait for the agent's handshake or first output
// after the socket opens; time spent reconnecting restarts it.
const OpenTimeout = time.Minute

// DefaultResumeBudget is the time spent reconnecting after one drop when
// Config.ResumeBudget is zero.
const DefaultResumeBudget = 2 * time.Minute

// Session is an open data channel. One goroutine owns its protocol state;
// the methods hand requests to it, so they are safe from any goroutine.
type Session struct {
	cfg   Config
	clock Clock
	log   *slog.Logger
	drops dropCounter

	ctx    context.Context // canceled when the session ends
	cancel context.CancelFunc
	cmds   chan command
	events chan any
	opened chan struct{}
	done   chan struct{}

	doneOnce sync.Once
	mu       sync.Mutex // guards info and result
	info     sessionInfo
	result   Result

	loopState
}

// sessionInfo is the handshake outcome that the accessor methods return.
type sessionInfo struct {
	sessionType     string
	customerMessage string
	encrypted       bool
}

// command runs fn on the session goroutine and sends its error to reply.
type command struct {
	fn    func() error
	reply chan error
}

// Open dials cfg.StreamURL, sends the open message and returns once the
// session is ready for input: after HandshakeComplete when the agent
// performs a handshake, else after its first Output. ctx bounds only the
// opening, and OpenTimeout bounds the wait for the agent. Errors are
// *StepError.
func Open(ctx context.Context, cfg Config) (_ *Session, err error) {
	var s *Session
	defer func() {
		if r := recover(); r != nil {
			if s != nil && s.conn != nil && !s.ended {
				s.closeConn(closeNormal, "client error")
			}
			err = &StepError{Step: StepOpen, Err: fmt.Errorf("internal error: %v", r)}
		}
	}()
	s, err = newSession(cfg)
	if err != nil {
		return nil, &StepError{Step: StepOpen, Err: err}
	}
	s.log.Info("starting session", "client_id", s.cfg.ClientID)
	s.setState(StateChange{State: StateConnecting})

	tr, err := s.dialAndOpen(ctx, s.cfg.StreamURL, s.cfg.TokenValue)
	if err != nil {
		s.finishBeforeLoop(&StepError{Step: StepOpen, Err: err})
		return nil, s.result.Err
	}
	s.attach(tr)
	s.setState(StateChange{State: StateHandshaking})
	go s.run()

	return s.awaitOpen(ctx)
}

func newSession(cfg Config) (*Session, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg:    cfg,
		clock:  cfg.Clock,
		log:    cfg.Logger.With("session_id", cfg.SessionID),
		ctx:    ctx,
		cancel: cancel,
		cmds:   make(chan command),
		events: make(chan any),
		opened: make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.initLoopState()
	return s, nil
}

func (cfg *Config) check() error {
	switch {
	case cfg.Dial == nil:
		return errors.New("invalid config: Dial is missing")
	case cfg.StreamURL == "":
		return errors.New("invalid config: StreamURL is missing")
	case cfg.TokenValue == "":
		return errors.New("invalid config: TokenValue is missing")
	case cfg.Cols < 0 || cfg.Rows < 0 || cfg.Cols > maxTermSize || cfg.Rows > maxTermSize:
		return fmt.Errorf("invalid config: terminal size %dx%d outside 0..%d",
			cfg.Cols, cfg.Rows, maxTermSize)
	case cfg.ResumeBudget < 0:
		return fmt.Errorf("invalid config: negative ResumeBudget %s", cfg.ResumeBudget)
	}
	return nil
}

func (cfg *Config) setDefaults() {
	if cfg.SessionID == "" {
		cfg.SessionID = SessionIDFromStreamURL(cfg.StreamURL)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = NewUUID().String()
	}
	if cfg.ClientVersion == "" {
		cfg.ClientVersion = DefaultClientVersion
	}
	if cfg.ResumeBudget == 0 {
		cfg.ResumeBudget = DefaultResumeBudget
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
}

// SessionIDFromStreamURL returns the session id in a StreamUrl of the
// form .../v1/data-channel/<sessionId>?..., or "" for any other form. Open
// uses it when Config.SessionID is empty.
func SessionIDFromStreamURL(streamURL string) string {
	u, err := url.Parse(streamURL)
	if err != nil {
		return ""
	}
	dir, id := path.Split(u.Path)
	if !strings.HasSuffix(dir, "/data-channel/") {
		return ""
	}
	return id
}

// awaitOpen waits for the session to become ready, to fail, or for ctx to
// end, in which case it ends the session.
func (s *Session) awaitOpen(ctx context.Context) (*Session, error) {
	select {
	case <-s.opened:
		return s, nil
	case <-s.done:
	case <-ctx.Done():
		s.abortOpen(ctx.Err())
		<-s.done
	}
	select {
	case <-s.opened:
		if s.Result().Err == nil {
			return s, nil
		}
	default:
	}
	return nil, s.Result().Err
}

func (s *Session) abortOpen(cause error) {
	s.call(func() error {
		s.fail(s.phaseStep(), fmt.Errorf("open canceled: %w", cause))
		return nil
	})
}

// call runs fn on the session goroutine and returns its error, or
// ErrSessionClosed when the session has ended.
func (s *Session) call(fn func() error) error {
	c := command{fn: fn, reply: make(chan error, 1)}
	select {
	case s.cmds <- c:
	case <-s.done:
		return ErrSessionClosed
	}
	return <-c.reply // runCommand always replies
}

// Write sends p as input, split into payloads of at most 1024 bytes. It
// queues while the session reconnects or is paused. When the outgoing
// buffer lacks room for all of p, Write writes nothing and returns
// ErrBufferFull, so the caller may retry once the agent has acknowledged
// earlier input. Input longer than OutgoingCapacity payloads never fits
// and gets another error. After the end Write returns ErrSessionClosed.
func (s *Session) Write(p []byte) (int, error) {
	data := bytes.Clone(p)
	err := s.call(func() error { return s.queueInput(data) })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Resize requests a terminal size of 1 to 65535 columns and rows. Requests
// are coalesced: at most one Size message is unacknowledged at a time and
// the latest request wins.
func (s *Session) Resize(cols, rows int) error {
	select {
	case <-s.done:
		return ErrSessionClosed
	default:
	}
	if cols <= 0 || rows <= 0 || cols > maxTermSize || rows > maxTermSize {
		return fmt.Errorf("resize to %dx%d: size outside 1..%d", cols, rows, maxTermSize)
	}
	return s.call(func() error {
		s.requestSize(cols, rows)
		return nil
	})
}

// Terminate ends the session: a Port session sends the TerminateSession
// flag first; every session then closes its socket. A shell session ends
// on the agent only through the SSM TerminateSession API, which the
// caller invokes.
func (s *Session) Terminate() error {
	return s.call(func() error {
		s.terminate()
		return nil
	})
}

// Close closes the socket without resuming.
func (s *Session) Close() error {
	return s.call(func() error {
		s.finish(Result{Clean: true, Reason: "closed by the client"})
		return nil
	})
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Result returns how the session ended; it is valid after Done is closed.
func (s *Session) Result() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result
}

// SessionType returns the session type from the handshake, or
// Standard_Stream when there was none.
func (s *Session) SessionType() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info.sessionType == "" {
		return SessionTypeStandardStream
	}
	return s.info.sessionType
}

// CustomerMessage returns the CustomerMessage of HandshakeComplete.
func (s *Session) CustomerMessage() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.customerMessage
}

// Encrypted reports whether the session uses KMS encryption.
func (s *Session) Encrypted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.encrypted
}
