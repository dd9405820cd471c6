//go:build !js

package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Options configures Start.
type Options struct {
	// Addr is the listen address; it must be a loopback address. The
	// default is 127.0.0.1:0, a random port.
	Addr string
	// WWW, when set, is a directory served as static files at "/".
	WWW string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// Server is a running emulator: the HTTP API, the data channel, the static
// files and the embedded local KMS.
type Server struct {
	ln     net.Listener
	http   *http.Server
	kms    *localKMS
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[string]*agent
	closed   bool

	closeOnce sync.Once
	closeErr  error
}

// Start starts the local KMS and the server and returns once both listen.
// The server stops when ctx ends or Close is called.
func Start(ctx context.Context, opts Options) (*Server, error) {
	addr, err := loopbackAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k, err := startKMS(ctx, logger)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		k.close()
		return nil, fmt.Errorf("start emulator: %w", err)
	}

	s := &Server{ln: ln, kms: k, log: logger, sessions: make(map[string]*agent)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           withCORS(s.routes(opts.WWW)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	go s.http.Serve(ln)
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.ctx.Done():
		}
	}()
	logger.Info("emulator started", "url", s.URL(), "kms", k.info.Endpoint)
	return s, nil
}

// loopbackAddr checks that addr is a loopback host and port, defaulting to
// 127.0.0.1:0, and resolves "localhost" to 127.0.0.1.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("listen address %q: not a loopback address, use 127.0.0.1", addr)
	}
	return net.JoinHostPort(host, port), nil
}

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String()
}

// KMS returns the embedded local KMS's endpoint, key and credentials.
func (s *Server) KMS() KMSInfo {
	return s.kms.info
}

// streamURL returns the data-channel URL of a session. cell is added as the
// cell-number parameter when it is not zero.
func (s *Server) streamURL(id string, cell int) string {
	u := "ws://" + s.ln.Addr().String() + "/v1/data-channel/" + url.PathEscape(id) +
		"?role=publish_subscribe"
	if cell != 0 {
		u += fmt.Sprintf("&cell-number=%d", cell)
	}
	return u
}

// NewSession creates a session and starts its agent side, which waits for a
// client to connect to the returned StreamUrl.
func (s *Server) NewSession(req SessionRequest) (SessionInfo, error) {
	req, err := req.normalize()
	if err != nil {
		return SessionInfo{}, fmt.Errorf("new session: %w", err)
	}
	id := newSessionID()
	a := newAgent(s.ctx, id, req, s.kms, s.log)
	token := a.issueToken()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return SessionInfo{}, errors.New("new session: server closed")
	}
	s.sessions[id] = a
	s.mu.Unlock()

	a.start()
	a.log.Info("session created", "type", req.SessionType, "kms", a.encrypted(),
		"faults", len(req.Faults), "source", req.Source != nil)
	return SessionInfo{SessionID: id, StreamURL: s.streamURL(id, 0), TokenValue: token,
		Target: a.target, KMS: s.kms.info}, nil
}

// session returns a session by id, or nil.
func (s *Server) session(id string) *agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// Resume issues a new token for a session, as SSM ResumeSession does.
func (s *Server) Resume(id string) (ResumeInfo, error) {
	a := s.session(id)
	if a == nil {
		return ResumeInfo{}, fmt.Errorf("resume session %q: not found", id)
	}
	token, count := a.resume()
	info := ResumeInfo{SessionID: id, StreamURL: s.streamURL(id, 0), TokenValue: token}
	if token != "" && a.faults.has(FaultNewStreamURL) {
		info.StreamURL = s.streamURL(id, count)
	}
	return info, nil
}

// Terminate ends a session: the agent side sends channel_closed.
func (s *Server) Terminate(id string) error {
	a := s.session(id)
	if a == nil {
		return fmt.Errorf("terminate session %q: not found", id)
	}
	a.terminate()
	return nil
}

// Close stops every session, the server and the local KMS.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		sessions := make([]*agent, 0, len(s.sessions))
		for _, a := range s.sessions {
			sessions = append(sessions, a)
		}
		s.mu.Unlock()

		for _, a := range sessions {
			a.shutdown()
		}
		s.cancel()
		s.closeErr = errors.Join(s.http.Close(), s.kms.close())
		s.log.Info("emulator stopped")
	})
	return s.closeErr
}
