//go:build !js

package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// Buffer limits of the agent side.
const (
	// outgoingCapacity and incomingCapacity are the agent's buffer sizes
	// in messages.
	outgoingCapacity = 100000
	incomingCapacity = 100000

	// outputWindow is how many messages a shell, command or echo may have
	// unacknowledged before its reader waits, like the agent's readers
	// that stop while the channel is inactive.
	outputWindow = 256

	// reorderFlushDelay is how long the reorder fault holds an incomplete
	// window.
	reorderFlushDelay = 20 * time.Millisecond
)

// errSessionEnded is returned by send once the session has ended.
var errSessionEnded = errors.New("session ended")

// outEntry is one unacknowledged agent stream message.
type outEntry struct {
	seq         int64
	frame       []byte
	payloadType protocol.PayloadType
	lastSent    time.Time
}

// agent is the agent side of one session. Its state outlives WebSocket
// connections: a resumed connection continues with the same sequence
// numbers and buffers.
type agent struct {
	id     string
	target string
	req    SessionRequest
	kms    *localKMS
	log    *slog.Logger
	faults *faultState

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the session has ended

	// txMu keeps first transmissions in sequence order.
	txMu sync.Mutex

	mu            sync.Mutex
	cond          *sync.Cond // signalled when a wait condition of send may have changed
	conn          *wsConn
	attachments   int
	token         string
	resumes       int
	nextSeq       int64
	outgoing      []*outEntry
	rtt           rttEstimator
	acksReceived  int64 // every ack, for the window source
	acksMatched   int64 // acks that removed a message from the outgoing buffer
	expected      int64
	incoming      map[int64]*protocol.Message
	handshakeDone bool
	cipher        *channelCipher
	plugin        plugin
	handshakeIn   chan *protocol.Message
	challenge     []byte
	challengeOK   chan struct{} // closed when the challenge response matched
	challengeBad  chan struct{} // closed when a challenge response did not match
	paused        bool
	finishing     bool
	ended         bool
	closedFrame   []byte
}

func newAgent(ctx context.Context, id string, req SessionRequest, kms *localKMS,
	logger *slog.Logger) *agent {
	a := &agent{
		id:           id,
		target:       targetID,
		req:          req,
		kms:          kms,
		log:          logger.With("session", id),
		faults:       newFaultState(req.Faults),
		done:         make(chan struct{}),
		rtt:          newRTTEstimator(),
		incoming:     make(map[int64]*protocol.Message),
		handshakeIn:  make(chan *protocol.Message, 1),
		challengeOK:  make(chan struct{}),
		challengeBad: make(chan struct{}),
	}
	a.ctx, a.cancel = context.WithCancel(ctx)
	a.cond = sync.NewCond(&a.mu)
	return a
}

// start runs the session and its retransmission timer. A session without a
// handshake takes input for its plugin from the start.
func (a *agent) start() {
	a.handshakeDone = !a.needsHandshake()
	go a.resendLoop()
	go a.run()
}

// send queues one stream message and transmits it. It waits while no client
// is connected, during a pause, and while limit messages are
// unacknowledged. Output, StdErr and ExitCode are encrypted in a KMS session.
func (a *agent) send(payloadType protocol.PayloadType, payload []byte, limit int) error {
	a.txMu.Lock()
	defer a.txMu.Unlock()
	entry, conn, err := a.enqueue(payloadType, payload, limit)
	if err != nil {
		return err
	}
	a.transmitFirst(conn, entry)
	return nil
}

// enqueue waits for room, then builds the next message and stores it in the
// outgoing buffer before it is sent, so an early ack always finds it.
func (a *agent) enqueue(payloadType protocol.PayloadType, payload []byte, limit int) (
	*outEntry, *wsConn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for !a.ended && (a.conn == nil || a.paused || len(a.outgoing) >= limit) {
		a.cond.Wait()
	}
	if a.ended {
		return nil, nil, errSessionEnded
	}
	if a.cipher != nil && encryptedType(payloadType) {
		payload = a.cipher.encrypt(payload)
	}
	m := newStreamMessage(a.nextSeq, payloadType, payload)
	frame, err := m.Marshal()
	if err != nil {
		return nil, nil, err
	}
	entry := &outEntry{seq: a.nextSeq, frame: frame, payloadType: payloadType,
		lastSent: time.Now()}
	a.outgoing = append(a.outgoing, entry)
	a.nextSeq++
	return entry, a.conn, nil
}

// encryptedType reports whether the agent encrypts a payload type.
func encryptedType(t protocol.PayloadType) bool {
	return t == protocol.PayloadOutput || t == protocol.PayloadStdErr ||
		t == protocol.PayloadExitCode
}

// newStreamMessage builds an output_stream_data message. The first message
// of the stream carries the SYN flag.
func newStreamMessage(seq int64, payloadType protocol.PayloadType,
	payload []byte) *protocol.Message {
	flags := protocol.FlagData
	if seq == 0 {
		flags = protocol.FlagSyn
	}
	return &protocol.Message{
		MessageType:    protocol.TypeOutputStreamData,
		SchemaVersion:  1,
		CreatedDate:    uint64(time.Now().UnixMilli()),
		SequenceNumber: seq,
		Flags:          flags,
		MessageID:      protocol.NewUUID(),
		PayloadType:    payloadType,
		Payload:        payload,
	}
}

// newControlMessage builds an unsequenced message such as an ack or
// channel_closed.
func newControlMessage(messageType string, flags uint64, payload []byte) []byte {
	m := &protocol.Message{
		MessageType:   messageType,
		SchemaVersion: 1,
		CreatedDate:   uint64(time.Now().UnixMilli()),
		Flags:         flags,
		MessageID:     protocol.NewUUID(),
		Payload:       payload,
	}
	frame, _ := m.Marshal() // message types are constants shorter than 32 bytes
	return frame
}

// transmitFirst sends a new message through the fault pipeline and carries
// out the actions the faults request.
func (a *agent) transmitFirst(conn *wsConn, entry *outEntry) {
	frames, startFlush, actions := a.faults.firstSend(entry.frame, entry.payloadType)
	for _, f := range frames {
		conn.write(f)
	}
	if startFlush {
		time.AfterFunc(reorderFlushDelay, a.flushReorder)
	}
	for _, act := range actions {
		a.applyFault(conn, act)
	}
}

// flushReorder sends the frames the reorder fault still holds.
func (a *agent) flushReorder() {
	frames := a.faults.flushReorder()
	a.mu.Lock()
	conn := a.conn
	a.mu.Unlock()
	for _, f := range frames {
		conn.write(f)
	}
}

// applyFault carries out a fault action after a transmission. A socket drop
// aimed at a connection that is already gone is given back to the fault, so
// that every counted drop closes a live socket.
func (a *agent) applyFault(conn *wsConn, act faultAction) {
	if act.kind == FaultDropSocket && !a.claimDrop(conn) {
		a.faults.refundDrop()
		return
	}
	a.log.Info("fault applied", "fault", act.kind, "connection", connID(conn))
	switch act.kind {
	case FaultCloseSocket, FaultDropSocket:
		conn.abort()
	case FaultChannelClosed:
		go a.finish(act.reason, false)
	case FaultPause:
		a.pause(conn, act.duration)
	}
}

// claimDrop reports whether c is the attached connection and no other
// drop-socket firing has closed it yet, and marks it dropped.
func (a *agent) claimDrop(c *wsConn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return c != nil && a.conn == c && c.dropped.CompareAndSwap(false, true)
}

func connID(c *wsConn) int {
	if c == nil {
		return 0
	}
	return c.id
}

// pause sends pause_publication, stops new output and retransmission for d,
// then sends start_publication.
func (a *agent) pause(conn *wsConn, d time.Duration) {
	a.mu.Lock()
	a.paused = true
	a.mu.Unlock()
	conn.write(newControlMessage(protocol.TypePausePublication, protocol.FlagData, nil))
	time.AfterFunc(d, func() {
		a.mu.Lock()
		a.paused = false
		current := a.conn
		a.cond.Broadcast()
		a.mu.Unlock()
		current.write(newControlMessage(protocol.TypeStartPublication, protocol.FlagData, nil))
	})
}

// handleAck removes the acknowledged message from the outgoing buffer and
// updates the round-trip estimate.
func (a *agent) handleAck(m *protocol.Message) {
	var ack protocol.AcknowledgeContent
	if err := json.Unmarshal(m.Payload, &ack); err != nil {
		a.log.Debug("invalid acknowledge payload ignored", "error", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acksReceived++
	for i, e := range a.outgoing {
		if e.seq == ack.AcknowledgedMessageSequenceNumber {
			a.rtt.update(time.Since(e.lastSent))
			a.outgoing = append(a.outgoing[:i], a.outgoing[i+1:]...)
			a.acksMatched++
			break
		}
	}
	a.cond.Broadcast()
}

// resendLoop retransmits the oldest unacknowledged message when it is
// overdue, and retries buffered input that a plugin was not ready for.
func (a *agent) resendLoop() {
	ticker := time.NewTicker(resendInterval)
	defer ticker.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.done:
			return
		case <-ticker.C:
		}
		a.resendHead()
		a.retryIncoming()
	}
}

func (a *agent) resendHead() {
	a.mu.Lock()
	if a.conn == nil || a.paused || a.ended || len(a.outgoing) == 0 {
		a.mu.Unlock()
		return
	}
	head := a.outgoing[0]
	if time.Since(head.lastSent) <= a.rtt.rto {
		a.mu.Unlock()
		return
	}
	head.lastSent = time.Now()
	conn, frame := a.conn, head.frame
	a.mu.Unlock()
	conn.write(frame)
}

// attach makes c the session's connection, replacing an older one, and sends
// every unacknowledged message once in sequence order. An ended session
// sends channel_closed and closes c instead.
func (a *agent) attach(c *wsConn) {
	a.mu.Lock()
	old := a.conn
	a.conn = c
	a.attachments++
	c.id = a.attachments
	closed := a.closedFrame
	now := time.Now()
	frames := make([][]byte, 0, len(a.outgoing))
	for _, e := range a.outgoing {
		e.lastSent = now
		frames = append(frames, e.frame)
	}
	a.cond.Broadcast()
	a.mu.Unlock()

	old.abort()
	if closed != nil {
		c.write(closed)
		c.closeNormal("")
		return
	}
	for _, f := range frames {
		c.write(f)
	}
	if f, ok := a.faults.get(FaultPeriodicClose); ok {
		go a.closePeriodically(c, f.interval())
	}
}

// detach clears the session's connection if it is still c.
func (a *agent) detach(c *wsConn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn == c {
		a.conn = nil
	}
}

// closePeriodically closes c with 1000 "Bye" after each interval, as the
// service closes data channels about once an hour.
func (a *agent) closePeriodically(c *wsConn, interval time.Duration) {
	select {
	case <-time.After(interval):
		a.log.Info("fault applied", "fault", FaultPeriodicClose, "connection", c.id)
		c.closeNormal("Bye")
	case <-c.ctx.Done():
	case <-a.done:
	}
}
