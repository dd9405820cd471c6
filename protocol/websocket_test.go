//go:build !js

package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// serveWebSocket starts a loopback WebSocket server that runs handle on
// each connection.
func serveWebSocket(t *testing.T, handle func(ctx context.Context, c *websocket.Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		c.SetReadLimit(maxFrameSize)
		handle(r.Context(), c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestWebSocketTransport(t *testing.T) {
	url := serveWebSocket(t, func(ctx context.Context, c *websocket.Conn) {
		for range 2 {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			c.Write(ctx, typ, data)
		}
		c.Close(4001, "bye now")
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tr, err := DialWebSocket(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(1000, "")

	big := bytes.Repeat([]byte{0xab}, 100_000) // above the library's 32 KiB default
	frames := []struct {
		kind FrameKind
		data []byte
	}{{FrameText, []byte(`{"open":1}`)}, {FrameBinary, big}}
	for _, f := range frames {
		if err := tr.Send(ctx, f.kind, f.data); err != nil {
			t.Fatal(err)
		}
		kind, data, err := tr.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if kind != f.kind || !bytes.Equal(data, f.data) {
			t.Errorf("echo of kind %d: kind %d, %d bytes", f.kind, kind, len(data))
		}
	}
	_, _, err = tr.Receive(ctx)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye now" {
		t.Errorf("Receive after close = %v, want CloseError 4001 %q", err, "bye now")
	}
}

func TestWebSocketDialFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := DialWebSocket(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err == nil || !strings.Contains(err.Error(), "dial websocket") {
		t.Errorf("dial of a non-WebSocket server = %v", err)
	}
}

// TestOpenOverWebSocket runs a session without a handshake over a real
// loopback WebSocket: open message, first Output, its ack, then input.
func TestOpenOverWebSocket(t *testing.T) {
	gotInput := make(chan string, 1)
	url := serveWebSocket(t, func(ctx context.Context, c *websocket.Conn) {
		typ, data, err := c.Read(ctx)
		var in OpenDataChannelInput
		if err != nil || typ != websocket.MessageText || json.Unmarshal(data, &in) != nil {
			t.Errorf("open message: type %v, err %v", typ, err)
			return
		}
		out := &Message{MessageType: TypeOutputStreamData, SchemaVersion: 1,
			CreatedDate: 1700000000000, Flags: FlagSyn, MessageID: NewUUID(),
			PayloadType: PayloadOutput, Payload: []byte("$ ")}
		frame, _ := out.Marshal()
		c.Write(ctx, websocket.MessageBinary, frame)
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			m, err := Unmarshal(data)
			if err == nil && m.MessageType == TypeInputStreamData {
				gotInput <- string(m.Payload)
				c.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
	})
	out := make(chan string, 1)
	s, err := Open(context.Background(), Config{
		StreamURL: url, TokenValue: "t", SessionID: "s-ws", Dial: DialWebSocket,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnOutput: func(p []byte) { out <- string(p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := <-out; got != "$ " {
		t.Errorf("output %q", got)
	}
	s.Write([]byte("exit\r"))
	select {
	case got := <-gotInput:
		if got != "exit\r" {
			t.Errorf("server got %q", got)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no input reached the server")
	}
}
