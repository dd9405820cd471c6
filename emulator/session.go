//go:build !js

package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// targetID is the instance id every session reports; clients put it in the
// KMS encryption context.
const targetID = "i-0123456789abcdef0"

// SessionRequest describes a session to create, as the body of
// POST /v1/sessions.
type SessionRequest struct {
	// SessionType is Standard_Stream (the default), InteractiveCommands,
	// NonInteractiveCommands or Port.
	SessionType string `json:"sessionType"`
	// KMS turns on the KMSEncryption handshake action. Port sessions
	// ignore it.
	KMS bool `json:"kms,omitempty"`
	// Challenge offers the random challenge in the KMSEncryption action;
	// nil means true.
	Challenge *bool `json:"challenge,omitempty"`
	// RequireChallenge rejects a client that does not acknowledge the
	// random challenge.
	RequireChallenge bool `json:"requireChallenge,omitempty"`
	// Command is run with sh -c by InteractiveCommands (in a pty) and
	// NonInteractiveCommands (without one).
	Command string `json:"command,omitempty"`
	// Source, when set, replaces the shell with benchmark output.
	Source *Source `json:"source,omitempty"`
	// Faults are the misbehaviours to inject.
	Faults []Fault `json:"faults,omitempty"`
	// StartDelayMs delays the start of the shell or command after the
	// handshake, so that early input is rejected as not ready for longer.
	StartDelayMs int `json:"startDelayMs,omitempty"`
}

// challengeOffered reports whether the KMSEncryption action carries a random
// challenge.
func (r SessionRequest) challengeOffered() bool {
	return r.Challenge == nil || *r.Challenge
}

// normalize checks r and fills in its defaults.
func (r SessionRequest) normalize() (SessionRequest, error) {
	switch r.SessionType {
	case "":
		r.SessionType = protocol.SessionTypeStandardStream
	case protocol.SessionTypeStandardStream, protocol.SessionTypePort:
	case protocol.SessionTypeInteractiveCommands, protocol.SessionTypeNonInteractiveCommands:
		if r.Command == "" && r.Source == nil {
			return r, fmt.Errorf("session type %s: command is missing", r.SessionType)
		}
	default:
		return r, fmt.Errorf("unknown session type %q: expected Standard_Stream, "+
			"InteractiveCommands, NonInteractiveCommands or Port", r.SessionType)
	}
	if r.StartDelayMs < 0 {
		return r, fmt.Errorf("startDelayMs %d: expected zero or more", r.StartDelayMs)
	}
	if r.Source != nil {
		s, err := r.Source.normalize()
		if err != nil {
			return r, err
		}
		r.Source = &s
	}
	faults, err := normalizeFaults(r.Faults)
	if err != nil {
		return r, err
	}
	r.Faults = faults
	return r, nil
}

// SessionInfo is the description of a new session: the StartSession output
// plus the target and the local KMS details.
type SessionInfo struct {
	SessionID  string  `json:"SessionId"`
	StreamURL  string  `json:"StreamUrl"`
	TokenValue string  `json:"TokenValue"`
	Target     string  `json:"Target"`
	KMS        KMSInfo `json:"Kms"`
}

// ResumeInfo is the ResumeSession output. TokenValue is empty when the
// session has ended or refuses to resume.
type ResumeInfo struct {
	SessionID  string `json:"SessionId"`
	StreamURL  string `json:"StreamUrl"`
	TokenValue string `json:"TokenValue"`
}

// newSessionID returns a random session id.
func newSessionID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "sess-" + hex.EncodeToString(b)
}

// newToken returns a random opaque token.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issueToken replaces the session's token; older tokens stop working.
func (a *agent) issueToken() string {
	t := newToken()
	a.mu.Lock()
	a.token = t
	a.mu.Unlock()
	return t
}

// checkToken reports whether t is the session's current token.
func (a *agent) checkToken(t string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(a.token)) == 1
}

// resume issues a new token and reports the resume count, or returns an
// empty token when the session has ended or a refuse-resume fault applies.
func (a *agent) resume() (token string, count int) {
	if a.isEnded() {
		a.log.Info("resume rejected: session ended")
		return "", 0
	}
	if a.faults.has(FaultRefuseResume) {
		a.log.Info("fault applied", "fault", FaultRefuseResume)
		return "", 0
	}
	token = a.issueToken()
	a.mu.Lock()
	a.resumes++
	count = a.resumes
	a.mu.Unlock()
	a.log.Info("session resumed", "resume", count)
	return token, count
}
