package protocol

import (
	"context"
	"sync/atomic"
	"testing"
)

// batchConn is a fakeConn that also implements BatchSender.
type batchConn struct {
	*fakeConn
	batches atomic.Int64 // SendBatch calls
	frames  atomic.Int64 // frames sent through SendBatch
}

func (c *batchConn) SendBatch(ctx context.Context, frames []Frame) error {
	c.batches.Add(1)
	for _, f := range frames {
		if err := c.Send(ctx, f.Kind, f.Data); err != nil {
			return err
		}
		c.frames.Add(1)
	}
	return nil
}

func TestBatchSenderKeepsFrameOrder(t *testing.T) {
	var conn *batchConn
	var h *harness
	h = newHarness(t, func(cfg *Config) {
		cfg.Dial = func(ctx context.Context, url string) (Transport, error) {
			tr, err := h.dialer.Dial(ctx, url)
			if err != nil {
				return nil, err
			}
			conn = &batchConn{fakeConn: tr.(*fakeConn)}
			return conn, nil
		}
	})
	_, a := h.openPlain(SessionTypeStandardStream)

	// The session acks these while its writer may still be busy, so some
	// acks are likely to go out together. Which ones is up to the
	// scheduler; the order must hold either way.
	const n = 200
	sent := make([]*Message, n)
	for i := range sent {
		sent[i] = a.send(PayloadOutput, []byte{byte(i)})
	}
	for i, m := range sent {
		ack := a.nextAck()
		if ack.AcknowledgedMessageSequenceNumber != m.SequenceNumber {
			t.Fatalf("ack %d is for seq %d, want %d",
				i, ack.AcknowledgedMessageSequenceNumber, m.SequenceNumber)
		}
	}
	for i := range n {
		if p := h.rec.waitOutput(t); len(p) != 1 || p[0] != byte(i) {
			t.Fatalf("output %d = %v, want [%d]", i, p, byte(i))
		}
	}
	t.Logf("%d frames sent in %d SendBatch calls", conn.frames.Load(), conn.batches.Load())
	if conn.batches.Load() > 0 && conn.frames.Load() < 2*conn.batches.Load() {
		t.Errorf("SendBatch got %d frames in %d calls, want at least 2 per call",
			conn.frames.Load(), conn.batches.Load())
	}
}
