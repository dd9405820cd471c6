//go:build !js

package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/coder/websocket"
	"github.com/ssmwasm/ssm.wasm/protocol"
)

// testLogger returns a logger for servers under test: silent unless
// EMULATOR_TEST_LOG is set, then text on stderr.
func testLogger() *slog.Logger {
	if os.Getenv("EMULATOR_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startServer starts an emulator that stops when the test ends.
func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(context.Background(), Options{Logger: testLogger()})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestSession creates a session or fails the test.
func newTestSession(t *testing.T, s *Server, req SessionRequest) SessionInfo {
	t.Helper()
	info, err := s.NewSession(req)
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	return info
}

// rawPeer is a minimal hand-driven client used to check the agent side's
// wire behaviour directly.
type rawPeer struct {
	t        *testing.T
	c        *websocket.Conn
	nextSeq  int64
	expected int64
	cipher   *channelCipher  // with the key halves swapped: the client's view
	output   strings.Builder // every in-order Output payload so far
	closed   *string         // channel_closed Output, once seen by handshake

	wrongChallenge bool           // answer the encryption challenge with other bytes
	acked          map[int64]bool // sequence numbers of input the agent acknowledged
}

// dialRaw opens the data channel and sends the OpenDataChannelInput.
func dialRaw(t *testing.T, streamURL, token string) *rawPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, streamURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", streamURL, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	open, _ := json.Marshal(protocol.OpenDataChannelInput{MessageSchemaVersion: "1.0",
		RequestId: protocol.NewUUID().String(), TokenValue: token,
		ClientId: protocol.NewUUID().String(), ClientVersion: protocol.DefaultClientVersion})
	if err := c.Write(ctx, websocket.MessageText, open); err != nil {
		t.Fatalf("send open: %v", err)
	}
	return &rawPeer{t: t, c: c}
}

// read returns the next message, or an error when the socket ends.
func (p *rawPeer) read(timeout time.Duration) (*protocol.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, frame, err := p.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return protocol.Unmarshal(frame)
}

// write sends one message.
func (p *rawPeer) write(m *protocol.Message) {
	p.t.Helper()
	frame, err := m.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.c.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// sendInput sends a new input_stream_data message and returns it.
func (p *rawPeer) sendInput(payloadType protocol.PayloadType, payload []byte) *protocol.Message {
	p.t.Helper()
	if payloadType == protocol.PayloadOutput && p.cipher != nil {
		payload = p.cipher.encrypt(payload)
	}
	m := &protocol.Message{MessageType: protocol.TypeInputStreamData, SchemaVersion: 1,
		CreatedDate: uint64(time.Now().UnixMilli()), SequenceNumber: p.nextSeq,
		MessageID: protocol.NewUUID(), PayloadType: payloadType, Payload: payload}
	p.nextSeq++
	p.write(m)
	return m
}

// ack acknowledges an agent stream message.
func (p *rawPeer) ack(m *protocol.Message) {
	p.t.Helper()
	frame := newAck(m)
	if err := p.c.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
		p.t.Fatalf("write ack: %v", err)
	}
}

// nextStream returns the next in-order agent stream message, acknowledging
// every stream message and skipping duplicates and acks. Other message types
// are returned as they come.
func (p *rawPeer) nextStream() *protocol.Message {
	p.t.Helper()
	for {
		m, err := p.read(10 * time.Second)
		if err != nil {
			p.t.Fatalf("read: %v", err)
		}
		if m.MessageType == protocol.TypeAcknowledge {
			p.recordAck(m)
			continue
		}
		if m.MessageType != protocol.TypeOutputStreamData {
			return m
		}
		p.ack(m)
		if p.accept(m) {
			return m
		}
	}
}

// recordAck notes the sequence number an acknowledge names.
func (p *rawPeer) recordAck(m *protocol.Message) {
	var ack protocol.AcknowledgeContent
	if err := json.Unmarshal(m.Payload, &ack); err != nil {
		p.t.Fatalf("acknowledge payload: %v", err)
	}
	if p.acked == nil {
		p.acked = make(map[int64]bool)
	}
	p.acked[ack.AcknowledgedMessageSequenceNumber] = true
}

// accept checks the sequence number of an acknowledged agent stream
// message, decrypts it and records its Output. It returns false for a
// duplicate.
func (p *rawPeer) accept(m *protocol.Message) bool {
	p.t.Helper()
	if m.SequenceNumber < p.expected {
		return false
	}
	if m.SequenceNumber > p.expected {
		p.t.Fatalf("message seq %d arrived while %d was expected", m.SequenceNumber, p.expected)
	}
	p.expected++
	if p.cipher != nil && encryptedType(m.PayloadType) {
		plain, err := p.cipher.decrypt(m.Payload)
		if err != nil {
			p.t.Fatalf("decrypt seq %d: %v", m.SequenceNumber, err)
		}
		m.Payload = plain
	}
	if m.PayloadType == protocol.PayloadOutput {
		p.output.Write(m.Payload)
	}
	return true
}

// readUntil reads stream messages until the output so far contains want,
// and returns the output.
func (p *rawPeer) readUntil(want string) string {
	p.t.Helper()
	for !strings.Contains(p.output.String(), want) {
		m := p.nextStream()
		if m.MessageType != protocol.TypeOutputStreamData {
			p.t.Fatalf("got %s while waiting for output", m.MessageType)
		}
	}
	return p.output.String()
}

// handshake responds to the agent's handshake, generating a KMS data key
// when the agent requests encryption.
func (p *rawPeer) handshake(info SessionInfo) *protocol.HandshakeComplete {
	p.t.Helper()
	req := p.nextStream()
	if req.PayloadType != protocol.PayloadHandshakeRequest {
		p.t.Fatalf("first message has payload type %d, want HandshakeRequest", req.PayloadType)
	}
	var hr protocol.HandshakeRequest
	if err := json.Unmarshal(req.Payload, &hr); err != nil {
		p.t.Fatal(err)
	}
	resp := protocol.HandshakeResponse{ClientVersion: protocol.DefaultClientVersion}
	var key []byte
	for _, action := range hr.RequestedClientActions {
		result := protocol.ProcessedClientAction{ActionType: action.ActionType,
			ActionStatus: protocol.ActionStatusSuccess}
		switch action.ActionType {
		case protocol.ActionSessionType:
		case protocol.ActionKMSEncryption:
			var blob []byte
			blob, key = p.generateKey(info, action.ActionParameters)
			result.ActionResult = protocol.KMSEncryptionResponse{KMSCipherTextKey: blob,
				ChallengeAcknowledgement: true}
		default:
			result.ActionStatus = protocol.ActionStatusUnsupported
			result.Error = "Unsupported action " + action.ActionType
		}
		resp.ProcessedClientActions = append(resp.ProcessedClientActions, result)
	}
	payload, _ := json.Marshal(resp)
	p.sendInput(protocol.PayloadHandshakeResponse, payload)
	if key != nil {
		p.answerChallenge(key)
	}
	m := p.nextStream()
	if m.MessageType == protocol.TypeChannelClosed {
		out := channelClosedOutput(p.t, m)
		p.closed = &out
		return nil
	}
	if m.PayloadType != protocol.PayloadHandshakeComplete {
		p.t.Fatalf("got payload type %d, want HandshakeComplete", m.PayloadType)
	}
	var hc protocol.HandshakeComplete
	json.Unmarshal(m.Payload, &hc)
	return &hc
}

// generateKey calls GenerateDataKey on the local KMS and returns the blob
// and the 64-byte key.
func (p *rawPeer) generateKey(info SessionInfo, params json.RawMessage) ([]byte, []byte) {
	p.t.Helper()
	var kp protocol.KMSEncryptionRequest
	json.Unmarshal(params, &kp)
	encryptionContext := map[string]string{protocol.ContextSessionID: info.SessionID,
		protocol.ContextTargetID: info.Target}
	if kp.Challenge != "" {
		encryptionContext[protocol.ContextRandomChallenge] = kp.Challenge
	}
	out, err := newKMSClient(info.KMS).GenerateDataKey(context.Background(),
		&kms.GenerateDataKeyInput{KeyId: aws.String(kp.KMSKeyId),
			NumberOfBytes: aws.Int32(64), EncryptionContext: encryptionContext})
	if err != nil {
		p.t.Fatalf("generate data key: %v", err)
	}
	return out.CiphertextBlob, out.Plaintext
}

// answerChallenge returns the encryption challenge under the client key.
func (p *rawPeer) answerChallenge(key []byte) {
	p.t.Helper()
	swapped := append(append([]byte(nil), key[32:]...), key[:32]...)
	c, err := newChannelCipher(swapped)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cipher = c
	m := p.nextStream()
	if m.PayloadType != protocol.PayloadEncChallengeRequest {
		p.t.Fatalf("got payload type %d, want EncChallengeRequest", m.PayloadType)
	}
	var ch protocol.EncChallenge
	json.Unmarshal(m.Payload, &ch)
	plain, err := c.decrypt(ch.Challenge)
	if err != nil {
		p.t.Fatalf("decrypt challenge: %v", err)
	}
	if p.wrongChallenge {
		plain[0] ^= 1
	}
	payload, _ := json.Marshal(protocol.EncChallenge{Challenge: c.encrypt(plain)})
	p.sendInput(protocol.PayloadEncChallengeResponse, payload)
}

// expectChannelClosed reads until channel_closed and returns its Output.
func (p *rawPeer) expectChannelClosed() string {
	p.t.Helper()
	if p.closed != nil {
		return *p.closed
	}
	for {
		m := p.nextStream()
		if m.MessageType == protocol.TypeChannelClosed {
			return channelClosedOutput(p.t, m)
		}
	}
}

func channelClosedOutput(t *testing.T, m *protocol.Message) string {
	t.Helper()
	var cc protocol.ChannelClosed
	if err := json.Unmarshal(m.Payload, &cc); err != nil {
		t.Fatalf("channel_closed payload: %v", err)
	}
	return cc.Output
}

func (p *rawPeer) String() string { return fmt.Sprintf("rawPeer(seq %d)", p.nextSeq) }
