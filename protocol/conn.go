package protocol

import (
	"context"
	"fmt"
	"time"
)

const (
	closeNormal = 1000

	// writeQueueSize bounds the frames waiting for the writer goroutine.
	// A frame that finds the queue full stays unsent in the outgoing
	// buffer (an ack is dropped, and the agent's retransmission gets a new
	// one).
	writeQueueSize = 4096

	// sendTimeout bounds one Transport.Send or SendBatch.
	sendTimeout = 30 * time.Second

	// maxWriteBatch is the maximum number of frames in one SendBatch.
	maxWriteBatch = 256
)

// Events sent to the session goroutine.
type (
	frameEvent struct {
		gen  int
		data []byte
	}
	dropEvent struct {
		gen int
		err error
	}
	panicEvent struct{ err error }
)

// connection is one Transport with its reader and writer goroutines.
type connection struct {
	tr     Transport
	gen    int
	queue  chan writeItem
	abort  chan struct{} // closed to make the writer close at once
	cancel context.CancelFunc

	// sendCtx is the context of every Send and SendBatch. sendTimer
	// cancels it when one call takes longer than sendTimeout. One timer
	// per connection costs less than a context with a deadline per frame.
	sendCtx   context.Context
	sendTimer *time.Timer
	frames    []Frame // storage for SendBatch, used by the writer alone
}

// errSendTimeout is the cause of a canceled sendCtx.
var errSendTimeout = fmt.Errorf("send timed out after %v", sendTimeout)

// writeItem is a frame to send or a close request.
type writeItem struct {
	kind   FrameKind
	data   []byte
	close  bool
	code   int
	reason string
}

// attach makes tr the session's connection and starts its goroutines.
func (s *Session) attach(tr Transport) {
	s.gen++
	ctx, cancel := context.WithCancel(context.Background())
	sendCtx, cancelSend := context.WithCancelCause(context.Background())
	c := &connection{
		tr:      tr,
		gen:     s.gen,
		queue:   make(chan writeItem, writeQueueSize),
		abort:   make(chan struct{}),
		cancel:  cancel,
		sendCtx: sendCtx,
		sendTimer: time.AfterFunc(sendTimeout, func() {
			cancelSend(errSendTimeout)
		}),
	}
	c.sendTimer.Stop()
	s.conn = c
	go s.readLoop(ctx, c)
	go s.writeLoop(c)
}

// closeConn detaches the current connection and closes it after the
// frames already queued for it.
func (s *Session) closeConn(code int, reason string) {
	c := s.conn
	if c == nil {
		return
	}
	s.conn = nil
	select {
	case c.queue <- writeItem{close: true, code: code, reason: reason}:
	default:
		close(c.abort)
	}
}

// send queues a frame for the writer and reports whether it was queued.
func (c *connection) send(kind FrameKind, data []byte) bool {
	select {
	case c.queue <- writeItem{kind: kind, data: data}:
		return true
	default:
		return false
	}
}

// readLoop passes every received frame to the session goroutine until the
// transport fails.
func (s *Session) readLoop(ctx context.Context, c *connection) {
	defer s.recoverInto("read loop")
	for {
		_, data, err := c.tr.Receive(ctx)
		if err != nil {
			s.emit(dropEvent{gen: c.gen, err: err})
			return
		}
		select {
		case s.events <- frameEvent{gen: c.gen, data: data}:
		case <-s.done:
			return
		}
	}
}

// writeLoop sends queued frames in order, those queued together as one
// batch, until a close request. After a failed send it reports the drop
// and discards further frames.
func (s *Session) writeLoop(c *connection) {
	defer s.recoverInto("write loop")
	defer c.cancel()
	defer c.sendTimer.Stop()
	failed := false
	var batch []writeItem
	for {
		var item writeItem
		select {
		case item = <-c.queue:
		case <-c.abort:
			c.tr.Close(closeNormal, "client closed")
			return
		}
		batch = c.nextBatch(batch, item)
		last := batch[len(batch)-1]
		frames := batch
		if last.close {
			frames = batch[:len(batch)-1]
		}
		if !failed && len(frames) > 0 {
			failed = s.sendFrames(c, frames)
		}
		clear(batch) // drop the references to sent frames
		if last.close {
			c.tr.Close(last.code, last.reason)
			return
		}
	}
}

// nextBatch returns first and the items queued after it, up to
// maxWriteBatch items and up to the first close request, in batch's
// storage.
func (c *connection) nextBatch(batch []writeItem, first writeItem) []writeItem {
	batch = append(batch[:0], first)
	for !first.close && len(batch) < maxWriteBatch {
		select {
		case item := <-c.queue:
			batch = append(batch, item)
			if item.close {
				return batch
			}
		default:
			return batch
		}
	}
	return batch
}

// sendFrames sends the frames of items, in one SendBatch when the
// Transport is a BatchSender, and reports whether a send failed.
func (s *Session) sendFrames(c *connection, items []writeItem) bool {
	c.sendTimer.Reset(sendTimeout)
	err := c.sendItems(items)
	c.sendTimer.Stop()
	if err == nil {
		return false
	}
	if cause := context.Cause(c.sendCtx); cause != nil {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	s.emit(dropEvent{gen: c.gen, err: fmt.Errorf("send frame: %w", err)})
	return true
}

func (c *connection) sendItems(items []writeItem) error {
	batcher, ok := c.tr.(BatchSender)
	if !ok || len(items) == 1 {
		for _, item := range items {
			if err := c.tr.Send(c.sendCtx, item.kind, item.data); err != nil {
				return err
			}
		}
		return nil
	}
	frames := c.frames[:0]
	for _, item := range items {
		frames = append(frames, Frame{Kind: item.kind, Data: item.data})
	}
	err := batcher.SendBatch(c.sendCtx, frames)
	clear(frames)
	c.frames = frames
	return err
}

// recoverInto turns a panic of a session goroutine into the session's
// error.
func (s *Session) recoverInto(where string) {
	if r := recover(); r != nil {
		s.emit(panicEvent{err: fmt.Errorf("internal error in %s: %v", where, r)})
	}
}
