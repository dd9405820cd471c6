//go:build !js

package emulator

import (
	"bytes"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssmwasm/ssm.wasm/protocol"
)

func TestE2EPortEchoAndTerminateFlag(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{SessionType: protocol.SessionTypePort, KMS: true})
	c := openClient(t, s, info)
	if got := c.sess.SessionType(); got != protocol.SessionTypePort {
		t.Errorf("session type %q, want Port", got)
	}
	if c.sess.Encrypted() {
		t.Errorf("a Port session reports encryption; Port never uses KMS")
	}
	data := randomBytes(5, 200<<10)
	c.write(data)
	c.waitFor("echo", func() bool { return c.out.Len() >= len(data) })
	if got := c.output(); !bytes.Equal(got, data) {
		t.Fatalf("echo of %d bytes differs: got %d bytes", len(data), len(got))
	}

	if err := c.sess.Terminate(); err != nil {
		t.Fatal(err)
	}
	a := s.session(info.SessionID)
	select {
	case <-a.done:
	case <-time.After(e2eTimeout):
		t.Fatalf("the agent side did not end after the TerminateSession flag")
	}
}

func TestE2ESource(t *testing.T) {
	tests := []struct {
		name   string
		source Source
	}{
		{"flood", Source{Kind: SourceFlood, Count: 3000, Size: 1000}},
		{"window", Source{Kind: SourceWindow, Count: 3000, Size: 1024, Window: 16}},
		{"small payloads", Source{Kind: SourceFlood, Count: 500, Size: 7}},
	}
	s := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := newTestSession(t, s, SessionRequest{Source: &tt.source, KMS: true})
			c := openClient(t, s, info)
			res := c.waitEnd()
			if !res.Clean {
				t.Errorf("session ended uncleanly: %v", res.Err)
			}
			want := sourcePayload(0, tt.source.Count*tt.source.Size)
			if got := c.output(); !bytes.Equal(got, want) {
				t.Errorf("received %d bytes, want %d bytes of the pattern", len(got), len(want))
			}
		})
	}
}

func TestRawWindowSourceWithFixedAck(t *testing.T) {
	s := startServer(t)
	const count = 200
	info := newTestSession(t, s, SessionRequest{
		Source: &Source{Kind: SourceWindow, Count: count, Size: 10, Window: 8}})
	p := dialRaw(t, info.StreamURL, info.TokenValue)
	var fixedAck []byte
	seen := make(map[int64]bool)
	for len(seen) < count {
		m, err := p.read(10 * time.Second)
		if err != nil {
			t.Fatalf("read after %d of %d messages: %v", len(seen), count, err)
		}
		if m.MessageType != protocol.TypeOutputStreamData {
			continue
		}
		if fixedAck == nil {
			fixedAck = newAck(m) // the ack of the first message, sent for every message
		}
		p.c.Write(t.Context(), websocket.MessageBinary, fixedAck)
		seen[m.SequenceNumber] = true
	}
	for seq := int64(0); seq < count; seq++ {
		if !seen[seq] {
			t.Errorf("message %d never arrived", seq)
		}
	}
}
