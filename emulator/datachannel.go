//go:build !js

package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/ssmwasm/ssm.wasm/protocol"
)

// Data-channel limits.
const (
	openTimeout  = 10 * time.Second
	maxFrameSize = 1 << 20
)

// openError is the reason an OpenDataChannelInput was rejected, sent as the
// reason of the 1003 close.
type openError string

// serveDataChannel accepts a client WebSocket, checks its
// OpenDataChannelInput and attaches it to the session until it closes.
func (s *Server) serveDataChannel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: originPatterns})
	if err != nil {
		s.log.Warn("websocket upgrade failed", "session", id, "error", err)
		return
	}
	c.SetReadLimit(maxFrameSize)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()

	a, reason := s.open(ctx, c, id)
	if a == nil {
		s.log.Warn("data channel open rejected", "session", id, "reason", string(reason))
		c.Close(websocket.StatusUnsupportedData, string(reason))
		return
	}
	conn := &wsConn{c: c, ctx: ctx, cell: r.URL.Query().Get("cell-number")}
	a.attach(conn)
	a.log.Info("client connected", "connection", conn.id, "cell", conn.cell,
		"remote", r.RemoteAddr)
	err = a.readLoop(conn)
	a.detach(conn)
	a.log.Info("client disconnected", "connection", conn.id, "code", websocket.CloseStatus(err))
	c.CloseNow()
}

// open reads the first frame and returns the session it opens, or nil and
// the reason it was rejected.
func (s *Server) open(ctx context.Context, c *websocket.Conn, id string) (*agent, openError) {
	readCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	typ, frame, err := c.Read(readCtx)
	if err != nil {
		return nil, "no OpenDataChannelInput received"
	}
	if typ != websocket.MessageText {
		return nil, "first frame must be a text OpenDataChannelInput"
	}
	var in protocol.OpenDataChannelInput
	if err := json.Unmarshal(frame, &in); err != nil {
		return nil, "invalid OpenDataChannelInput JSON"
	}
	if in.TokenValue == "" {
		return nil, "request to open data channel does not contain token"
	}
	a := s.session(id)
	if a == nil || !a.checkToken(in.TokenValue) {
		return nil, "invalid or expired token for this session"
	}
	return a, ""
}

// readLoop hands every frame of c to the session until c fails or closes.
func (a *agent) readLoop(c *wsConn) error {
	for {
		_, frame, err := c.c.Read(c.ctx)
		if err != nil {
			return err
		}
		a.handleFrame(c, frame)
	}
}
