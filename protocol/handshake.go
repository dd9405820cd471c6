package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
)

// errRequireEncryption rejects an agent that does not request KMS when
// Config.RequireEncryption is set.
var errRequireEncryption = errors.New(
	"agent did not request KMS encryption, but the config requires encryption")

// errGenerateDataKey is the key provider failure as reported to the agent.
var errGenerateDataKey = errors.New("generate data key failed")

// ErrNoKeyProvider is the error of a session whose agent requests KMS
// encryption when Config.KeyProvider is nil.
var ErrNoKeyProvider = errors.New("the agent requires KMS encryption, but no key provider is configured")

// handshakeState is a HandshakeResponse being built. It waits for the data
// key when the agent requests KMS encryption.
type handshakeState struct {
	response  HandshakeResponse
	kmsAction int // index of the KMSEncryption action waiting for a key, or -1
	challenge string
	failStep  Step
	failErr   error // the first failure, which ends Open once the response is sent
	sent      bool  // the response has been queued
}

// keyEvent is the result of GenerateDataKey.
type keyEvent struct {
	key DataKey
	err error
}

// handleHandshakeMessage processes HandshakeRequest, EncChallengeRequest
// and HandshakeComplete.
func (s *Session) handleHandshakeMessage(m *Message) {
	switch m.PayloadType {
	case PayloadHandshakeRequest:
		s.handleHandshakeRequest(m.Payload)
	case PayloadEncChallengeRequest:
		s.handleChallenge(m.Payload)
	case PayloadHandshakeComplete:
		s.handleHandshakeComplete(m.Payload)
	}
}

func (s *Session) handleHandshakeRequest(payload []byte) {
	if s.phase != phaseFirstMessage {
		s.drops.note(s.log, "repeated handshake request", "phase", int(s.phase))
		return
	}
	s.phase = phaseHandshake
	var req HandshakeRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		s.fail(StepHandshake, fmt.Errorf("parse handshake request: %w", jsonError(err)))
		return
	}
	s.log.Info("handshake requested", "agent_version", req.AgentVersion,
		"actions", len(req.RequestedClientActions))

	h := &handshakeState{kmsAction: -1}
	h.response.ClientVersion = s.cfg.ClientVersion
	s.handshake = h
	for _, action := range req.RequestedClientActions {
		h.response.ProcessedClientActions = append(h.response.ProcessedClientActions,
			s.processAction(action))
	}
	if s.cfg.RequireEncryption && !requestsKMS(req) {
		s.fail(StepHandshake, errRequireEncryption)
		return
	}
	if h.kmsAction < 0 {
		s.sendHandshakeResponse()
	}
}

func requestsKMS(req HandshakeRequest) bool {
	for _, a := range req.RequestedClientActions {
		if a.ActionType == ActionKMSEncryption {
			return true
		}
	}
	return false
}

// processAction returns the result of one requested action. A KMS action
// starts GenerateDataKey, and its result is filled in when the key
// arrives.
func (s *Session) processAction(a RequestedClientAction) ProcessedClientAction {
	h := s.handshake
	result := ProcessedClientAction{ActionType: a.ActionType, ActionStatus: ActionStatusSuccess}
	var err error
	switch a.ActionType {
	case ActionSessionType:
		err = s.processSessionType(a.ActionParameters)
	case ActionKMSEncryption:
		err = s.startKMS(a.ActionParameters, len(h.response.ProcessedClientActions))
	default:
		s.log.Warn("unsupported handshake action", "action", a.ActionType)
		h.markUnsupported(&result)
		return result
	}
	if err != nil {
		h.markFailed(&result, err)
	}
	return result
}

// markFailed sets result to Failed with err's text, lists the text in the
// response's Errors, and keeps the first failure to end Open with.
func (h *handshakeState) markFailed(result *ProcessedClientAction, err error) {
	result.ActionStatus = ActionStatusFailed
	result.ActionResult = nil
	result.Error = fmt.Sprintf("Failed to process action %s: %v", result.ActionType, err)
	h.response.Errors = append(h.response.Errors, result.Error)
	if h.failErr == nil {
		h.failStep = StepHandshake
		if result.ActionType == ActionKMSEncryption {
			h.failStep = StepKMS
		}
		h.failErr = fmt.Errorf("%s action: %w", result.ActionType, err)
	}
}

// markUnsupported sets result to Unsupported. The agent aborts the session
// on any status other than Success, so this too ends Open once the
// response is sent.
func (h *handshakeState) markUnsupported(result *ProcessedClientAction) {
	result.ActionStatus = ActionStatusUnsupported
	result.Error = "Unsupported action " + result.ActionType
	h.response.Errors = append(h.response.Errors, result.Error)
	if h.failErr == nil {
		h.failStep = StepHandshake
		h.failErr = fmt.Errorf("unsupported handshake action %q", result.ActionType)
	}
}

func (s *Session) processSessionType(params json.RawMessage) error {
	var req SessionTypeRequest
	if err := json.Unmarshal(params, &req); err != nil {
		return fmt.Errorf("invalid parameters: %w", jsonError(err))
	}
	switch req.SessionType {
	case SessionTypeStandardStream, SessionTypeInteractiveCommands,
		SessionTypeNonInteractiveCommands, SessionTypePort:
	default:
		return fmt.Errorf("unknown session type %q", req.SessionType)
	}
	s.mu.Lock()
	s.info.sessionType = req.SessionType
	s.mu.Unlock()
	return nil
}

// startKMS calls GenerateDataKey on a separate goroutine, so the session
// keeps acking while the key provider works.
func (s *Session) startKMS(params json.RawMessage, index int) error {
	if s.cfg.KeyProvider == nil {
		return ErrNoKeyProvider
	}
	if s.handshake.kmsAction >= 0 {
		return errors.New("KMS encryption requested twice")
	}
	var req KMSEncryptionRequest
	if err := json.Unmarshal(params, &req); err != nil {
		return fmt.Errorf("invalid parameters: %w", jsonError(err))
	}
	s.handshake.kmsAction = index
	s.handshake.challenge = req.Challenge
	s.phase = phaseKMS
	go s.generateDataKey(s.dataKeyRequest(req))
	return nil
}

// dataKeyRequest builds the GenerateDataKey input. The agent decrypts the
// key with the same context, adding the random challenge only when the
// client acknowledges it.
func (s *Session) dataKeyRequest(req KMSEncryptionRequest) DataKeyRequest {
	context := map[string]string{
		ContextSessionID: s.cfg.SessionID,
		ContextTargetID:  s.cfg.TargetID,
	}
	if req.Challenge != "" {
		context[ContextRandomChallenge] = req.Challenge
	}
	return DataKeyRequest{
		KeyID:             req.KMSKeyId,
		EncryptionContext: context,
		NumberOfBytes:     DataKeySize,
	}
}

func (s *Session) generateDataKey(req DataKeyRequest) {
	defer s.recoverInto("key provider")
	key, err := s.cfg.KeyProvider.GenerateDataKey(s.ctx, req)
	s.emit(keyEvent{key: key, err: err})
}

// onDataKey completes the KMS action with the generated key and sends the
// HandshakeResponse.
func (s *Session) onDataKey(ev keyEvent) {
	h := s.handshake
	if h == nil || s.phase != phaseKMS {
		return
	}
	result := &h.response.ProcessedClientActions[h.kmsAction]
	err := ev.err
	if err == nil {
		s.enc, err = NewEncrypter(ev.key.Plaintext)
		clear(ev.key.Plaintext)
	}
	if err != nil {
		// The agent logs the Error text, so it gets no detail of a key
		// provider's error, which may come from the page's backend.
		first := h.failErr == nil
		h.markFailed(result, errGenerateDataKey)
		if first {
			h.failErr = fmt.Errorf("%s action: %w: %w", ActionKMSEncryption, errGenerateDataKey, err)
		}
		s.sendHandshakeResponse()
		return
	}
	result.ActionResult = KMSEncryptionResponse{
		KMSCipherTextKey:         ev.key.CiphertextBlob,
		ChallengeAcknowledgement: h.challenge != "",
	}
	s.mu.Lock()
	s.info.encrypted = true
	s.mu.Unlock()
	s.phase = phaseChallenge
	s.sendHandshakeResponse()
}

// sendHandshakeResponse sends the response, then ends the session if an
// action failed: the agent aborts the session on any failed action.
func (s *Session) sendHandshakeResponse() {
	h := s.handshake
	if s.phase == phaseKMS {
		s.phase = phaseHandshake
	}
	payload, err := json.Marshal(h.response)
	if err == nil {
		err = s.queueStream(PayloadHandshakeResponse, payload)
	}
	if err != nil {
		s.fail(StepHandshake, fmt.Errorf("send handshake response: %w", err))
		return
	}
	h.sent = true
	if h.failErr != nil {
		s.fail(h.failStep, h.failErr)
	}
}

// handleChallenge responds to EncChallengeRequest. It decrypts the
// challenge with the agent's key and encrypts it again with the client's.
func (s *Session) handleChallenge(payload []byte) {
	if s.enc == nil {
		s.fail(StepChallenge, errors.New("encryption challenge without KMS encryption"))
		return
	}
	var req EncChallenge
	if err := json.Unmarshal(payload, &req); err != nil {
		s.fail(StepChallenge, fmt.Errorf("parse encryption challenge: %w", jsonError(err)))
		return
	}
	plain, err := s.enc.Decrypt(req.Challenge)
	if err != nil {
		s.fail(StepChallenge, fmt.Errorf("encryption challenge: %w", err))
		return
	}
	sealed, err := s.enc.Encrypt(plain)
	if err == nil {
		payload, err = json.Marshal(EncChallenge{Challenge: sealed})
	}
	if err == nil {
		err = s.queueStream(PayloadEncChallengeResponse, payload)
	}
	if err != nil {
		s.fail(StepChallenge, fmt.Errorf("send encryption challenge response: %w", err))
	}
}

func (s *Session) handleHandshakeComplete(payload []byte) {
	if s.phase == phaseOpen || s.phase == phaseFirstMessage {
		s.drops.note(s.log, "unexpected handshake complete", "phase", int(s.phase))
		return
	}
	// An agent completes the handshake only after it has the response, and
	// the data key with it. Accepting it earlier would open a session
	// without the encryption the agent requested.
	if h := s.handshake; h == nil || !h.sent {
		s.fail(StepHandshake, errors.New("handshake complete arrived before the handshake response was sent"))
		return
	}
	if s.cfg.RequireEncryption && s.enc == nil {
		s.fail(StepHandshake, errRequireEncryption)
		return
	}
	var done HandshakeComplete
	if err := json.Unmarshal(payload, &done); err != nil {
		s.drops.note(s.log, "invalid handshake complete", "error", jsonError(err))
	}
	s.mu.Lock()
	s.info.customerMessage = done.CustomerMessage
	s.mu.Unlock()
	s.becomeOpen()
}

// acceptNoHandshake handles an agent that skips the handshake: its first
// message is data, and the session is Standard_Stream.
func (s *Session) acceptNoHandshake() bool {
	if s.cfg.RequireEncryption {
		s.fail(StepHandshake, errRequireEncryption)
		return false
	}
	return true
}

// becomeOpen makes the session ready: it reports the handshake result,
// releases Open, and sends the initial size.
func (s *Session) becomeOpen() {
	s.phase = phaseOpen
	s.handshake = nil
	if s.openWait != nil {
		s.openWait.Stop()
		s.openWait = nil
	}
	s.log.Info("session open", "session_type", s.SessionType(), "encrypted", s.enc != nil)
	close(s.opened)
	if s.conn != nil {
		s.setState(StateChange{State: StateOpen})
	}
	if s.cfg.Cols > 0 && s.cfg.Rows > 0 && !s.size.pending {
		s.requestSize(s.cfg.Cols, s.cfg.Rows)
	}
	s.flushSize()
	s.drain()
}

// skipHandshake opens a session whose agent sent data first.
func (s *Session) skipHandshake() {
	s.becomeOpen()
}
