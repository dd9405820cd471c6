package protocol

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeKMS is a KeyProvider that records its requests and returns a fixed
// data key.
type fakeKMS struct {
	mu   sync.Mutex
	reqs []DataKeyRequest
	key  []byte
	err  error
}

func (k *fakeKMS) GenerateDataKey(ctx context.Context, req DataKeyRequest) (DataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reqs = append(k.reqs, req)
	if k.err != nil {
		return DataKey{}, k.err
	}
	return DataKey{Plaintext: append([]byte(nil), k.key...), CiphertextBlob: []byte("blob")}, nil
}

func (k *fakeKMS) requests() []DataKeyRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]DataKeyRequest(nil), k.reqs...)
}

func kmsAction(t *testing.T, challenge string) RequestedClientAction {
	t.Helper()
	params, err := json.Marshal(KMSEncryptionRequest{KMSKeyId: "alias/test", Challenge: challenge})
	if err != nil {
		t.Fatal(err)
	}
	return RequestedClientAction{ActionType: ActionKMSEncryption, ActionParameters: params}
}

// agentChallenge is an EncChallengeRequest payload sealed with the agent's
// half of key.
func agentChallenge(t *testing.T, key, plain []byte) EncChallenge {
	t.Helper()
	aead, err := newGCM(key[:32])
	if err != nil {
		t.Fatal(err)
	}
	return EncChallenge{Challenge: sealWithNonce(aead, make([]byte, 12), plain)}
}

func agentSeal(t *testing.T, key, plain []byte) []byte {
	t.Helper()
	aead, _ := newGCM(key[:32])
	nonce := []byte("agent-nonce!")
	return sealWithNonce(aead, nonce, plain)
}

type responseJSON struct {
	ClientVersion          string
	ProcessedClientActions []struct {
		ActionType   string
		ActionStatus int
		ActionResult json.RawMessage
		Error        string
	}
	Errors []string
}

func readResponse(t *testing.T, a *agent) (*Message, responseJSON) {
	t.Helper()
	m := a.nextData()
	if m.PayloadType != PayloadHandshakeResponse {
		t.Fatalf("payload type %d, want HandshakeResponse", m.PayloadType)
	}
	var r responseJSON
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		t.Fatal(err)
	}
	return m, r
}

func TestHandshakeKMS(t *testing.T) {
	for _, challenge := range []string{"", "sQkWnfJBpE6HHAhnGTJeOA=="} {
		name := "without challenge"
		if challenge != "" {
			name = "with challenge"
		}
		t.Run(name, func(t *testing.T) { testHandshakeKMS(t, challenge) })
	}
}

func testHandshakeKMS(t *testing.T, challenge string) {
	key := testDataKey()
	kms := &fakeKMS{key: key}
	h := newHarness(t, func(c *Config) { c.KeyProvider = kms })
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest,
		handshakeRequest(SessionTypeStandardStream, kmsAction(t, challenge)))
	a.nextAck()
	resp, r := readResponse(t, a)

	wantContext := map[string]string{ContextSessionID: "s-1", ContextTargetID: "i-0123"}
	wantResult := `{"KMSCipherTextKey":"YmxvYg==","KMSCipherTextHash":null}`
	if challenge != "" {
		wantContext[ContextRandomChallenge] = challenge
		wantResult = `{"KMSCipherTextKey":"YmxvYg==","KMSCipherTextHash":null,` +
			`"ChallengeAcknowledgement":true}`
	}
	reqs := kms.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d GenerateDataKey calls, want 1", len(reqs))
	}
	if !reflect.DeepEqual(reqs[0].EncryptionContext, wantContext) {
		t.Errorf("context = %v, want %v", reqs[0].EncryptionContext, wantContext)
	}
	if reqs[0].NumberOfBytes != 64 || reqs[0].KeyID != "alias/test" {
		t.Errorf("request = %+v", reqs[0])
	}
	kmsResult := r.ProcessedClientActions[1]
	if kmsResult.ActionStatus != ActionStatusSuccess || string(kmsResult.ActionResult) != wantResult {
		t.Errorf("KMS action = %d %s, want 1 %s", kmsResult.ActionStatus, kmsResult.ActionResult,
			wantResult)
	}
	if r.Errors != nil {
		t.Errorf("Errors = %v, want null", r.Errors)
	}
	a.ack(resp)

	plain := []byte(strings.Repeat("challenge-bytes!", 4))
	a.sendJSON(PayloadEncChallengeRequest, agentChallenge(t, key, plain))
	a.nextAck()
	answer := a.nextData()
	if answer.PayloadType != PayloadEncChallengeResponse || answer.SequenceNumber != 1 {
		t.Fatalf("answer type %d seq %d", answer.PayloadType, answer.SequenceNumber)
	}
	var ch EncChallenge
	if err := json.Unmarshal(answer.Payload, &ch); err != nil {
		t.Fatal(err)
	}
	if got := openWith(t, key[32:], ch.Challenge); string(got) != string(plain) {
		t.Errorf("challenge answer decrypts to %q", got)
	}
	a.ack(answer)

	a.sendJSON(PayloadHandshakeComplete,
		HandshakeComplete{CustomerMessage: "This session is encrypted using AWS KMS."})
	a.nextAck()
	s := h.opened()
	if !s.Encrypted() || s.CustomerMessage() != "This session is encrypted using AWS KMS." {
		t.Errorf("encrypted %v, message %q", s.Encrypted(), s.CustomerMessage())
	}
	checkEncryptedTraffic(t, h, s, a, key)
}

// checkEncryptedTraffic checks that Output is encrypted both ways, that
// StdErr and ExitCode are decrypted, and that Size stays in the clear.
func checkEncryptedTraffic(t *testing.T, h *harness, s *Session, a *agent, key []byte) {
	t.Helper()
	a.send(PayloadOutput, agentSeal(t, key, []byte("secret out")))
	a.nextAck()
	if got := string(h.rec.waitOutput(t)); got != "secret out" {
		t.Errorf("decrypted output %q", got)
	}
	a.send(PayloadStdErr, agentSeal(t, key, []byte("oops")))
	a.nextAck()
	a.send(PayloadExitCode, agentSeal(t, key, []byte("EXIT_CODE: 7")))
	a.nextAck()

	s.Write([]byte("typed"))
	in := a.nextData()
	if string(in.Payload) == "typed" {
		t.Fatal("input sent in the clear")
	}
	if got := openWith(t, key[32:], in.Payload); string(got) != "typed" {
		t.Errorf("input decrypts to %q", got)
	}
	s.Resize(90, 30)
	size := a.nextData()
	if size.PayloadType != PayloadSize || string(size.Payload) != `{"cols":90,"rows":30}` {
		t.Errorf("size message type %d payload %q, want plaintext", size.PayloadType, size.Payload)
	}
	s.Close()
	res := waitDone(t, s)
	if res.ExitCode == nil || *res.ExitCode != 7 {
		t.Errorf("exit code %v, want 7", res.ExitCode)
	}
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if string(h.rec.stderr) != "oops" {
		t.Errorf("stderr %q", h.rec.stderr)
	}
}

// respondToKMSRequest sends a Standard_Stream HandshakeRequest with a
// KMSEncryption action and returns the client's response.
func respondToKMSRequest(t *testing.T, h *harness) responseJSON {
	t.Helper()
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest,
		handshakeRequest(SessionTypeStandardStream, kmsAction(t, "")))
	a.nextAck()
	_, r := readResponse(t, a)
	return r
}

func TestHandshakeKMSWithoutProvider(t *testing.T) {
	h := newHarness(t, nil)
	r := respondToKMSRequest(t, h)
	kms := r.ProcessedClientActions[1]
	if kms.ActionStatus != ActionStatusFailed || !strings.Contains(kms.Error, "no key provider") {
		t.Errorf("KMS action = %d %q", kms.ActionStatus, kms.Error)
	}
	if len(r.Errors) != 1 || r.Errors[0] != kms.Error {
		t.Errorf("Errors = %q", r.Errors)
	}
	checkOpenStep(t, h, StepKMS)
}

func checkOpenStep(t *testing.T, h *harness, want Step) *StepError {
	t.Helper()
	res := h.openResult()
	var se *StepError
	if !errors.As(res.err, &se) || se.Step != want {
		t.Fatalf("Open error = %v, want a StepError of step %s", res.err, want)
	}
	return se
}

func TestHandshakeKeyProviderError(t *testing.T) {
	kms := &fakeKMS{err: errors.New("access denied")}
	h := newHarness(t, func(c *Config) { c.KeyProvider = kms })
	got := respondToKMSRequest(t, h).ProcessedClientActions[1]
	if got.ActionStatus != ActionStatusFailed || !strings.Contains(got.Error, "generate data key") {
		t.Errorf("KMS action = %d %q", got.ActionStatus, got.Error)
	}
	if strings.Contains(got.Error, "access denied") {
		t.Errorf("KMS action error %q carries the provider's error to the agent", got.Error)
	}
	se := checkOpenStep(t, h, StepKMS)
	if !strings.Contains(se.Error(), "access denied") {
		t.Errorf("error %q does not carry the provider's error", se)
	}
}

func TestSessionIDFromStreamURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/sess-0a1b?role=publish_subscribe", "sess-0a1b"},
		{"ws://127.0.0.1:8080/v1/data-channel/s1?role=publish_subscribe&cell-number=AAA", "s1"},
		{"wss://example.test/other/s1", ""},
		{"::not a url", ""},
	}
	for _, tt := range tests {
		if got := SessionIDFromStreamURL(tt.url); got != tt.want {
			t.Errorf("SessionIDFromStreamURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestRequireEncryption(t *testing.T) {
	tests := []struct {
		name  string
		first func(a *agent)
	}{
		{"handshake without KMS", func(a *agent) {
			a.sendJSON(PayloadHandshakeRequest, handshakeRequest(SessionTypeStandardStream))
		}},
		{"no handshake", func(a *agent) { a.send(PayloadOutput, []byte("$ ")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.RequireEncryption = true })
			a := h.start()
			tt.first(a)
			checkOpenStep(t, h, StepHandshake)
			<-a.conn.closed
			if got := h.rec.output(); got != "" {
				t.Errorf("output %q delivered from a rejected session", got)
			}
		})
	}
}

func TestHandshakeUnknownAction(t *testing.T) {
	h := newHarness(t, nil)
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest, handshakeRequest(SessionTypeStandardStream,
		RequestedClientAction{ActionType: "Telepathy", ActionParameters: json.RawMessage(`{}`)}))
	a.nextAck()
	_, r := readResponse(t, a)
	got := r.ProcessedClientActions[1]
	if got.ActionType != "Telepathy" || got.ActionStatus != ActionStatusUnsupported ||
		string(got.ActionResult) != "null" || got.Error != "Unsupported action Telepathy" {
		t.Errorf("unknown action = %+v", got)
	}
	if len(r.Errors) != 1 {
		t.Errorf("Errors = %q", r.Errors)
	}
	checkOpenStep(t, h, StepHandshake)
}

func TestHandshakeCompleteBeforeKeyRejected(t *testing.T) {
	waiting := KeyProviderFunc(func(ctx context.Context, _ DataKeyRequest) (DataKey, error) {
		<-ctx.Done()
		return DataKey{}, ctx.Err()
	})
	h := newHarness(t, func(c *Config) {
		c.KeyProvider = waiting
		c.RequireEncryption = true
	})
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest,
		handshakeRequest(SessionTypeStandardStream, kmsAction(t, "")))
	a.nextAck()
	a.sendJSON(PayloadHandshakeComplete, HandshakeComplete{CustomerMessage: "plain"})
	checkOpenStep(t, h, StepHandshake)
	if got := h.rec.output(); got != "" {
		t.Errorf("output %q delivered from a session without its key", got)
	}
}

func TestHandshakeUnknownSessionType(t *testing.T) {
	h := newHarness(t, nil)
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest, handshakeRequest("Hologram"))
	a.nextAck()
	_, r := readResponse(t, a)
	if got := r.ProcessedClientActions[0]; got.ActionStatus != ActionStatusFailed ||
		!strings.Contains(got.Error, "Hologram") {
		t.Errorf("session type action = %+v", got)
	}
	checkOpenStep(t, h, StepHandshake)
}

func TestHandshakeSessionTypes(t *testing.T) {
	for _, typ := range []string{SessionTypeStandardStream, SessionTypeInteractiveCommands,
		SessionTypeNonInteractiveCommands, SessionTypePort} {
		t.Run(typ, func(t *testing.T) {
			h := newHarness(t, nil)
			s, _ := h.openPlain(typ)
			if s.SessionType() != typ {
				t.Errorf("SessionType() = %q", s.SessionType())
			}
		})
	}
}

func TestNoStreamDataBeforeHandshakeComplete(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Cols, c.Rows = 100, 40 })
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest, handshakeRequest(SessionTypeStandardStream))
	a.nextAck()
	resp := a.nextData()
	a.ack(resp)
	a.expectNothing()

	a.sendAt(1, PayloadOutput, []byte("early"))
	a.expectNothing() // not acked: the session is not ready
	a.sendAt(2, PayloadOutput, []byte("later"))
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != 2 {
		t.Fatalf("ack seq %d, want 2", ack.AcknowledgedMessageSequenceNumber)
	}
	if got := h.rec.output(); got != "" {
		t.Fatalf("output %q before HandshakeComplete", got)
	}

	a.sendAt(1, PayloadHandshakeComplete, []byte(`{"CustomerMessage":""}`))
	a.nextAck()
	h.opened()
	size := a.nextData()
	if size.PayloadType != PayloadSize || size.SequenceNumber != 1 {
		t.Errorf("after open: type %d seq %d, want Size seq 1", size.PayloadType, size.SequenceNumber)
	}
	if got := string(h.rec.waitOutput(t)); got != "later" {
		t.Errorf("output %q, want the stored message", got)
	}
}

func TestChallengeFailures(t *testing.T) {
	key := testDataKey()
	tests := []struct {
		name string
		act  func(t *testing.T, a *agent)
	}{
		{"channel closed", func(t *testing.T, a *agent) {
			a.channelClosed("Timed out waiting for encryption challenge.")
		}},
		{"wrong key", func(t *testing.T, a *agent) {
			other := make([]byte, 64)
			a.sendJSON(PayloadEncChallengeRequest, agentChallenge(t, other, make([]byte, 64)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.KeyProvider = &fakeKMS{key: key} })
			a := h.start()
			a.sendJSON(PayloadHandshakeRequest,
				handshakeRequest(SessionTypeStandardStream, kmsAction(t, "")))
			a.nextAck()
			resp, _ := readResponse(t, a)
			a.ack(resp)
			tt.act(t, a)
			checkOpenStep(t, h, StepChallenge)
		})
	}
}

func TestChallengeAnswerIsBase64JSON(t *testing.T) {
	ch := EncChallenge{Challenge: []byte{1, 2, 3}}
	b, _ := json.Marshal(ch)
	want := `{"Challenge":"` + base64.StdEncoding.EncodeToString([]byte{1, 2, 3}) + `"}`
	if string(b) != want {
		t.Errorf("challenge JSON %s, want %s", b, want)
	}
}

func TestBufferedHandshakeComplete(t *testing.T) {
	key := testDataKey()
	h := newHarness(t, func(c *Config) { c.KeyProvider = &fakeKMS{key: key} })
	a := h.start()
	a.sendJSON(PayloadHandshakeRequest,
		handshakeRequest(SessionTypeStandardStream, kmsAction(t, "")))
	a.nextAck()
	resp, _ := readResponse(t, a)
	a.ack(resp)

	a.sendAt(2, PayloadHandshakeComplete, []byte(`{"CustomerMessage":"late"}`))
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != 2 {
		t.Fatalf("ack seq %d, want 2", ack.AcknowledgedMessageSequenceNumber)
	}
	challenge, _ := json.Marshal(agentChallenge(t, key, make([]byte, 64)))
	a.sendAt(1, PayloadEncChallengeRequest, challenge)
	a.nextAck()
	if m := a.nextData(); m.PayloadType != PayloadEncChallengeResponse {
		t.Fatalf("payload type %d, want the challenge response", m.PayloadType)
	}
	s := h.opened()
	if s.CustomerMessage() != "late" {
		t.Errorf("customer message %q", s.CustomerMessage())
	}
}

func TestFlagFromAgentNotOutput(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypePort)
	a.send(PayloadFlag, []byte{0, 0, 0, byte(FlagConnectToPortError)})
	a.nextAck()
	a.send(PayloadOutput, []byte("data"))
	a.nextAck()
	if got := string(h.rec.waitOutput(t)); got != "data" {
		t.Errorf("output %q, want the flag kept out", got)
	}
}

func TestStateString(t *testing.T) {
	want := map[State]string{StateConnecting: "connecting", StateHandshaking: "handshaking",
		StateOpen: "open", StateReconnecting: "reconnecting", StateClosed: "closed",
		State(9): "state(9)"}
	for s, name := range want {
		if s.String() != name {
			t.Errorf("State(%d).String() = %q, want %q", int(s), s.String(), name)
		}
	}
}
