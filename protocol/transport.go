package protocol

import (
	"context"
	"fmt"
)

// FrameKind is the WebSocket frame type of a message.
type FrameKind int

// Frame kinds. The client sends the open message as text and everything
// else as binary; it accepts both kinds from the service.
const (
	FrameText FrameKind = iota + 1
	FrameBinary
)

// Transport is one WebSocket connection to the data channel.
type Transport interface {
	// Send writes one frame. It must not retain data after it returns.
	Send(ctx context.Context, kind FrameKind, data []byte) error

	// Receive blocks until the next frame arrives. When the connection
	// ends it returns a *CloseError with the peer's close code and reason,
	// or another error for a failed connection. The caller owns the
	// returned data: the Transport must not reuse it.
	Receive(ctx context.Context) (FrameKind, []byte, error)

	// Close closes the connection with a close code and reason. Browsers
	// allow only 1000 and 3000 to 4999.
	Close(code int, reason string) error
}

// BatchSender is a Transport that sends several frames in one call, for
// transports where each call costs more than the frame, such as the
// browser's WebSocket from wasm. The session's writer uses SendBatch for
// the frames that are queued together when its Transport implements it.
type BatchSender interface {
	// SendBatch writes the frames in order. It must not retain them after
	// it returns. After an error, any prefix of the frames may have been
	// sent.
	SendBatch(ctx context.Context, frames []Frame) error
}

// Frame is one WebSocket frame to send.
type Frame struct {
	Kind FrameKind
	Data []byte
}

// Dialer opens a Transport to a StreamUrl. The context bounds the dial
// only: the session cancels it once the dial returns, and the Transport
// must stay open until its Close.
type Dialer func(ctx context.Context, url string) (Transport, error)

// CloseError reports the close frame that ended a connection.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket closed with code %d: %q", e.Code, e.Reason)
}
