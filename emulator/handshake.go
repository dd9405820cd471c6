//go:build !js

package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// Handshake settings of the agent side.
const (
	agentVersion     = "3.3.987.0"
	handshakeTimeout = 15 * time.Second
	challengeTimeout = 15 * time.Second
	challengeSize    = 64
	randomChallenge  = 16

	// unknownActionType is the extra action of the fail-handshake fault.
	unknownActionType = "EmulatorUnknownAction"

	kmsCustomerMessage = "This session is encrypted using AWS KMS."
	separateOutputHint = "Please update session manager plugin version (minimum required " +
		"version 1.2.312.0) for fully support of separate StdOut/StdErr output.\r\n"
	handshakeErrorPrefix = "----------ERROR-------\nEncountered error while initiating handshake. "
)

// handshakeError is a failed handshake; its text becomes the channel_closed
// Output after handshakeErrorPrefix.
type handshakeError struct{ msg string }

func (e *handshakeError) Error() string { return e.msg }

// needsHandshake reports whether the agent side starts with a handshake:
// always for NonInteractiveCommands and Port, otherwise only with KMS.
func (a *agent) needsHandshake() bool {
	switch a.req.SessionType {
	case protocol.SessionTypeNonInteractiveCommands, protocol.SessionTypePort:
		return true
	}
	return a.req.KMS || a.faults.has(FaultFailHandshake)
}

// handshake runs the agent's handshake: HandshakeRequest, the client's
// HandshakeResponse, the KMS key and encryption challenge when encryption is
// on, then HandshakeComplete.
func (a *agent) handshake() error {
	started := time.Now()
	req, challenge, err := a.handshakeRequest()
	if err != nil {
		return err
	}
	if err := a.send(protocol.PayloadHandshakeRequest, req, outgoingCapacity); err != nil {
		return err
	}
	resp, err := a.awaitHandshakeResponse()
	if err != nil {
		return err
	}
	if err := a.processHandshakeResponse(resp, challenge); err != nil {
		return err
	}
	if a.encrypted() {
		if err := a.runChallenge(); err != nil {
			return err
		}
	}
	return a.completeHandshake(resp.ClientVersion, time.Since(started))
}

// encrypted reports whether the session uses KMS; Port sessions never do.
func (a *agent) encrypted() bool {
	return a.req.KMS && a.req.SessionType != protocol.SessionTypePort
}

// handshakeRequest builds the HandshakeRequest payload and returns the random
// challenge it offers, if any.
func (a *agent) handshakeRequest() ([]byte, string, error) {
	sessionType := protocol.SessionTypeRequest{SessionType: a.req.SessionType,
		Properties: json.RawMessage("null")}
	if a.req.SessionType == protocol.SessionTypePort {
		sessionType.Properties = json.RawMessage(`{"portNumber":"22"}`)
	}
	actions := []protocol.RequestedClientAction{
		{ActionType: protocol.ActionSessionType, ActionParameters: mustJSON(sessionType)},
	}
	var challenge string
	if a.encrypted() {
		kmsAction := protocol.KMSEncryptionRequest{KMSKeyId: a.kms.info.KeyID}
		if a.req.challengeOffered() {
			b := make([]byte, randomChallenge)
			if _, err := rand.Read(b); err != nil {
				return nil, "", fmt.Errorf("build handshake request: %w", err)
			}
			challenge = base64.StdEncoding.EncodeToString(b)
			kmsAction.Challenge = challenge
		}
		actions = append(actions, protocol.RequestedClientAction{
			ActionType: protocol.ActionKMSEncryption, ActionParameters: mustJSON(kmsAction)})
	}
	if a.faults.has(FaultFailHandshake) {
		a.log.Info("fault applied", "fault", FaultFailHandshake)
		actions = append(actions, protocol.RequestedClientAction{
			ActionType: unknownActionType, ActionParameters: json.RawMessage("{}")})
	}
	payload := mustJSON(protocol.HandshakeRequest{AgentVersion: agentVersion,
		RequestedClientActions: actions})
	return payload, challenge, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only fixed, valid types reach here
	}
	return b
}

// awaitHandshakeResponse waits for the client's HandshakeResponse.
func (a *agent) awaitHandshakeResponse() (*protocol.HandshakeResponse, error) {
	timer := time.NewTimer(handshakeTimeout)
	defer timer.Stop()
	select {
	case m := <-a.handshakeIn:
		var resp protocol.HandshakeResponse
		if err := json.Unmarshal(m.Payload, &resp); err != nil {
			return nil, &handshakeError{fmt.Sprintf("invalid HandshakeResponse: %v", err)}
		}
		return &resp, nil
	case <-timer.C:
		return nil, &handshakeError{"Handshake timed out. Please ensure that you have " +
			"the latest version of the session manager plugin."}
	case <-a.done:
		return nil, errSessionEnded
	}
}

// processHandshakeResponse checks every action's status and sets up
// encryption from the KMSEncryption result.
func (a *agent) processHandshakeResponse(resp *protocol.HandshakeResponse,
	challenge string) error {
	var failures []string
	var kmsResult any
	for _, action := range resp.ProcessedClientActions {
		if action.ActionStatus != protocol.ActionStatusSuccess {
			failures = append(failures, fmt.Sprintf("%s failed on client with status %d error: %s",
				action.ActionType, action.ActionStatus, action.Error))
			continue
		}
		if action.ActionType == protocol.ActionKMSEncryption {
			kmsResult = action.ActionResult
		}
	}
	if len(failures) > 0 {
		return &handshakeError{strings.Join(failures, "; ")}
	}
	if !a.encrypted() {
		return nil
	}
	if kmsResult == nil {
		return &handshakeError{"KMSEncryption failed on client: no result in the HandshakeResponse"}
	}
	return a.setupEncryption(kmsResult, challenge)
}

// setupEncryption decrypts the client's data key through the local KMS with
// the session's encryption context.
func (a *agent) setupEncryption(result any, challenge string) error {
	var key protocol.KMSEncryptionResponse
	raw, _ := json.Marshal(result)
	if err := json.Unmarshal(raw, &key); err != nil {
		return &handshakeError{fmt.Sprintf("invalid KMSEncryption result: %v", err)}
	}
	encryptionContext := map[string]string{
		protocol.ContextSessionID: a.id,
		protocol.ContextTargetID:  a.target,
	}
	switch {
	case key.ChallengeAcknowledgement && challenge != "":
		encryptionContext[protocol.ContextRandomChallenge] = challenge
	case a.req.RequireChallenge:
		return &handshakeError{"client does not support required encryption context random challenge"}
	}
	plain, err := a.kms.decryptDataKey(a.ctx, key.KMSCipherTextKey, encryptionContext)
	if err != nil {
		return &handshakeError{fmt.Sprintf("Fetching data key failed: %v", err)}
	}
	c, err := newChannelCipher(plain)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.cipher = c
	a.mu.Unlock()
	return nil
}

// runChallenge sends 64 random bytes under the agent's key and waits until
// the client returns them under its own key.
func (a *agent) runChallenge() error {
	plain := make([]byte, challengeSize)
	if _, err := rand.Read(plain); err != nil {
		return fmt.Errorf("build encryption challenge: %w", err)
	}
	a.mu.Lock()
	a.challenge = plain
	blob := a.cipher.encrypt(plain)
	a.mu.Unlock()
	payload := mustJSON(protocol.EncChallenge{Challenge: blob})
	if err := a.send(protocol.PayloadEncChallengeRequest, payload, outgoingCapacity); err != nil {
		return err
	}
	timer := time.NewTimer(challengeTimeout)
	defer timer.Stop()
	bad := a.challengeBad
	for {
		select {
		case <-a.challengeOK:
			return nil
		case <-bad:
			// The agent waits out its full timeout after a wrong response;
			// the emulator shortens the wait so failing tests end sooner.
			timer.Reset(a.wrongChallengeWait())
			bad = nil
		case <-timer.C:
			return &handshakeError{"Timed out waiting for encryption challenge."}
		case <-a.done:
			return errSessionEnded
		}
	}
}

// wrongChallengeWait returns how long the agent side still waits for a
// correct challenge response after a wrong one: the wrong-challenge fault's
// duration, or one second.
func (a *agent) wrongChallengeWait() time.Duration {
	if f, ok := a.faults.get(FaultWrongChallenge); ok {
		return f.duration()
	}
	return time.Second
}

// completeHandshake sends HandshakeComplete; from then on client data goes to
// the session's plugin.
func (a *agent) completeHandshake(clientVersion string, elapsed time.Duration) error {
	var msg strings.Builder
	if a.req.SessionType == protocol.SessionTypeNonInteractiveCommands &&
		compareVersions(clientVersion, "1.2.295") <= 0 {
		msg.WriteString(separateOutputHint)
	}
	if a.encrypted() {
		msg.WriteString(kmsCustomerMessage)
	}
	payload := mustJSON(protocol.HandshakeComplete{
		HandshakeTimeToComplete: elapsed.Nanoseconds(),
		CustomerMessage:         msg.String(),
	})
	a.mu.Lock()
	a.handshakeDone = true
	a.mu.Unlock()
	a.log.Info("handshake complete", "clientVersion", clientVersion, "encrypted", a.encrypted())
	return a.send(protocol.PayloadHandshakeComplete, payload, outgoingCapacity)
}

// compareVersions compares dotted numeric versions component by component,
// the longer one winning a tie, and returns -1, 0 or 1. Components that are
// not numbers count as 0.
func compareVersions(x, y string) int {
	xs, ys := strings.Split(x, "."), strings.Split(y, ".")
	for i := 0; i < min(len(xs), len(ys)); i++ {
		xn, _ := strconv.Atoi(xs[i])
		yn, _ := strconv.Atoi(ys[i])
		if xn != yn {
			if xn < yn {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(xs) < len(ys):
		return -1
	case len(xs) > len(ys):
		return 1
	}
	return 0
}

// handshakeFailureText returns the channel_closed Output of a failed
// handshake.
func handshakeFailureText(err error) string {
	var he *handshakeError
	if errors.As(err, &he) {
		return handshakeErrorPrefix + he.msg
	}
	return handshakeErrorPrefix + err.Error()
}
