//go:build !js

package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssmwasm/ssm.wasm/protocol"
)

func TestRawShellFirstMessageAndEcho(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	p := dialRaw(t, info.StreamURL, info.TokenValue)

	first := p.nextStream()
	if first.SequenceNumber != 0 || first.Flags != protocol.FlagSyn {
		t.Errorf("first message seq %d flags %d, want seq 0 flags 1",
			first.SequenceNumber, first.Flags)
	}
	if first.PayloadType != protocol.PayloadOutput {
		t.Errorf("first message payload type %d, want Output", first.PayloadType)
	}
	p.sendInput(protocol.PayloadOutput, []byte("echo raw-$((6*7))\r"))
	p.readUntil("raw-42")
}

func TestRawDuplicateInputIsAckedAgain(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	p.nextStream()

	m := p.sendInput(protocol.PayloadOutput, []byte("echo dup-$((1+1))\r"))
	for acks := 0; acks < 2; {
		got, err := p.read(10 * time.Second)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch got.MessageType {
		case protocol.TypeAcknowledge:
			var ack protocol.AcknowledgeContent
			json.Unmarshal(got.Payload, &ack)
			if ack.AcknowledgedMessageSequenceNumber != m.SequenceNumber {
				t.Fatalf("ack for seq %d, want %d", ack.AcknowledgedMessageSequenceNumber,
					m.SequenceNumber)
			}
			if ack.AcknowledgedMessageId != m.MessageID.String() {
				t.Errorf("ack names message %s, want %s", ack.AcknowledgedMessageId, m.MessageID)
			}
			acks++
			if acks == 1 {
				p.write(m) // the same frame again
			}
		case protocol.TypeOutputStreamData:
			p.ack(got)
			p.accept(got)
		}
	}
	out := p.readUntil("dup-2")
	if strings.Count(out, "dup-2") != 1 {
		t.Errorf("the duplicated command ran more than once")
	}
}

func TestRawInputRejectedUntilPTYExists(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{StartDelayMs: 300})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	m := p.sendInput(protocol.PayloadOutput, []byte("echo early-$((2+3))\r"))

	// Until the shell's first output, nothing may acknowledge the input.
	for {
		got, err := p.read(10 * time.Second)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if got.MessageType == protocol.TypeAcknowledge {
			t.Fatalf("input acknowledged before the pty existed")
		}
		if got.MessageType == protocol.TypeOutputStreamData {
			p.ack(got)
			p.accept(got)
			break
		}
	}
	p.write(m) // retransmission, now accepted
	p.readUntil("early-5")
}

func TestRawKMSHandshakeAndEncryptedEcho(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{KMS: true, RequireChallenge: true})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	hc := p.handshake(info)
	if hc == nil {
		t.Fatalf("handshake did not complete: %q", p.expectChannelClosed())
	}
	if hc.CustomerMessage != kmsCustomerMessage {
		t.Errorf("CustomerMessage %q, want %q", hc.CustomerMessage, kmsCustomerMessage)
	}
	p.readUntil("$ ") // the raw peer does not retransmit input sent before the shell starts
	p.sendInput(protocol.PayloadSize, []byte(`{"cols":100,"rows":30}`))
	p.sendInput(protocol.PayloadOutput, []byte("echo kms-$((40+2)); stty size\r"))
	p.readUntil("30 100")
}

func TestRawHandshakeFailureText(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{Faults: []Fault{{Kind: FaultFailHandshake}}})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	if hc := p.handshake(info); hc != nil {
		t.Fatalf("handshake completed despite the unknown action")
	}
	got := p.expectChannelClosed()
	want := handshakeErrorPrefix + unknownActionType +
		" failed on client with status 3 error: Unsupported action " + unknownActionType
	if got != want {
		t.Errorf("channel_closed Output %q, want %q", got, want)
	}
}

func TestDataChannelRejectsBadOpen(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	other := newTestSession(t, s, SessionRequest{})
	tests := []struct {
		name   string
		url    string
		kind   websocket.MessageType
		frame  string
		reason string
	}{
		{"missing token", info.StreamURL, websocket.MessageText,
			`{"MessageSchemaVersion":"1.0","RequestId":"x","ClientId":"y"}`, "does not contain token"},
		{"wrong token", info.StreamURL, websocket.MessageText,
			`{"MessageSchemaVersion":"1.0","TokenValue":"forged"}`, "invalid or expired token"},
		{"token of another session", info.StreamURL, websocket.MessageText,
			`{"TokenValue":"` + other.TokenValue + `"}`, "invalid or expired token"},
		{"binary first frame", info.StreamURL, websocket.MessageBinary,
			`{"TokenValue":"` + info.TokenValue + `"}`, "must be a text"},
		{"invalid json", info.StreamURL, websocket.MessageText, `{`, "invalid OpenDataChannelInput"},
		{"unknown session", s.streamURL("sess-none", 0), websocket.MessageText,
			`{"TokenValue":"` + info.TokenValue + `"}`, "invalid or expired token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason := openAndWaitClose(t, tt.url, tt.kind, tt.frame)
			if code != websocket.StatusUnsupportedData {
				t.Errorf("close code %d, want 1003", code)
			}
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("close reason %q does not contain %q", reason, tt.reason)
			}
		})
	}
}

// openAndWaitClose sends one first frame and returns the code and reason of
// the server's close frame.
func openAndWaitClose(t *testing.T, url string, kind websocket.MessageType,
	frame string) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, kind, []byte(frame)); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, _, err = c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("read returned %v, want a close frame", err)
	}
	return ce.Code, ce.Reason
}

func TestResumeReplacesToken(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	resumed, err := s.Resume(info.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.TokenValue == "" || resumed.TokenValue == info.TokenValue {
		t.Fatalf("resume did not issue a new token")
	}
	code, _ := openAndWaitClose(t, info.StreamURL, websocket.MessageText,
		`{"TokenValue":"`+info.TokenValue+`"}`)
	if code != websocket.StatusUnsupportedData {
		t.Errorf("old token: close code %d, want 1003", code)
	}
	p := dialRaw(t, resumed.StreamURL, resumed.TokenValue)
	if m := p.nextStream(); m.PayloadType != protocol.PayloadOutput {
		t.Errorf("new token: first payload type %d, want Output", m.PayloadType)
	}
}

func TestResumeFaults(t *testing.T) {
	s := startServer(t)
	refused := newTestSession(t, s, SessionRequest{Faults: []Fault{{Kind: FaultRefuseResume}}})
	moved := newTestSession(t, s, SessionRequest{Faults: []Fault{{Kind: FaultNewStreamURL}}})

	r, err := s.Resume(refused.SessionID)
	if err != nil || r.TokenValue != "" {
		t.Errorf("refuse-resume: token %q, error %v; want an empty token", r.TokenValue, err)
	}
	r, err = s.Resume(moved.SessionID)
	if err != nil || !strings.Contains(r.StreamURL, "&cell-number=1") {
		t.Errorf("new-stream-url: StreamUrl %q, error %v; want a cell-number", r.StreamURL, err)
	}
	if _, err := s.Resume("sess-none"); err == nil {
		t.Errorf("resume of an unknown session succeeded")
	}
}

func TestTerminateSendsChannelClosed(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	p.nextStream()
	if err := s.Terminate(info.SessionID); err != nil {
		t.Fatal(err)
	}
	p.expectChannelClosed()
	r, _ := s.Resume(info.SessionID)
	if r.TokenValue != "" {
		t.Errorf("resume after terminate issued a token")
	}
}

func TestRawWrongChallengeNotAcked(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{KMS: true})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	p.wrongChallenge = true
	if hc := p.handshake(info); hc != nil {
		t.Fatalf("handshake completed with a wrong challenge response")
	}
	want := handshakeErrorPrefix + "Timed out waiting for encryption challenge."
	if got := p.expectChannelClosed(); got != want {
		t.Errorf("channel_closed Output %q, want %q", got, want)
	}
	if !p.acked[0] {
		t.Errorf("the HandshakeResponse (seq 0) was not acknowledged")
	}
	if p.acked[1] {
		t.Errorf("the wrong EncChallengeResponse (seq 1) was acknowledged")
	}
}

func TestRawDrainEndsDespiteRepeatedAck(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{
		Source: &Source{Kind: SourceWindow, Count: 20, Size: 10, Window: 4}})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	var fixedAck []byte
	for {
		m, err := p.read(10 * time.Second)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.MessageType == protocol.TypeChannelClosed {
			return // the drain gave up although acks kept arriving
		}
		if m.MessageType != protocol.TypeOutputStreamData {
			continue
		}
		if fixedAck == nil {
			fixedAck = newAck(m)
		}
		p.c.Write(t.Context(), websocket.MessageBinary, fixedAck)
	}
}
