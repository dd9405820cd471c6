//go:build !js

package protocol

import (
	"context"
	"errors"
	"fmt"

	"github.com/coder/websocket"
)

// maxFrameSize is the read limit of DialWebSocket. Agent frames are about
// 1.2 KB; the limit leaves room for peers that send more.
const maxFrameSize = 1 << 20

// DialWebSocket opens a native WebSocket Transport to url. It is a Dialer
// for programs outside the browser.
func DialWebSocket(ctx context.Context, url string) (Transport, error) {
	c, resp, err := websocket.Dial(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial websocket: %w", err)
	}
	c.SetReadLimit(maxFrameSize)
	return &wsTransport{c: c}, nil
}

type wsTransport struct {
	c *websocket.Conn
}

func (t *wsTransport) Send(ctx context.Context, kind FrameKind, data []byte) error {
	typ := websocket.MessageBinary
	if kind == FrameText {
		typ = websocket.MessageText
	}
	return t.c.Write(ctx, typ, data)
}

// Receive returns the next frame. A close frame from the peer becomes a
// *CloseError with its code and reason.
func (t *wsTransport) Receive(ctx context.Context) (FrameKind, []byte, error) {
	typ, data, err := t.c.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return 0, nil, &CloseError{Code: int(ce.Code), Reason: ce.Reason}
		}
		return 0, nil, fmt.Errorf("read websocket: %w", err)
	}
	if typ == websocket.MessageText {
		return FrameText, data, nil
	}
	return FrameBinary, data, nil
}

func (t *wsTransport) Close(code int, reason string) error {
	return t.c.Close(websocket.StatusCode(code), reason)
}
