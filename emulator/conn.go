//go:build !js

package emulator

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// writeTimeout bounds one frame write to a client.
const writeTimeout = 10 * time.Second

// wsConn is one client WebSocket attached to a session.
type wsConn struct {
	c    *websocket.Conn
	ctx  context.Context
	id   int    // attachment number within the session, from 1
	cell string // cell-number parameter of the StreamUrl it connected to

	dropped atomic.Bool // a drop-socket fault has closed it
}

// write sends one binary frame. A failed write closes the connection, so
// the read loop ends and the session detaches it. Writing to a nil wsConn
// does nothing, which leaves the frame to retransmission.
func (w *wsConn) write(frame []byte) {
	if w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, writeTimeout)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageBinary, frame); err != nil {
		w.abort()
	}
}

// abort closes the connection without a close frame, as a network failure
// would.
func (w *wsConn) abort() {
	if w != nil {
		w.c.CloseNow()
	}
}

// closeNormal starts a close handshake with code 1000 and returns at once.
func (w *wsConn) closeNormal(reason string) {
	if w != nil {
		go w.c.Close(websocket.StatusNormalClosure, reason)
	}
}
