//go:build js && wasm

package jsbridge

import (
	"encoding/binary"
	"fmt"
	"syscall/js"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// supportGlobal is the global that ssm.js sets before it runs ssm.wasm.
// Its queueWebSocket(ws, wake) replaces ws.onmessage with a JavaScript
// handler that queues each frame, and returns the queue. Its take()
// returns every queued frame in one batch (see splitBatch), or null when
// none is queued, after which the next frame schedules a call of wake in a
// later task. Its close() stops the queue and the scheduled wake.
// Entering Go costs tens of microseconds per browser event, so under load
// one wake per batch replaces one Go call per frame. Without the global,
// the bridge handles every message event in Go.
const supportGlobal = "ssmWasmSupport"

// batchHeaderSize is the size of the header before each frame of a batch:
// the frame's length and its protocol.FrameKind, both little-endian
// uint32.
const batchHeaderSize = 8

// attachQueue lets the support object of ssm.js queue c's frames, and
// reports whether it did. A missing or failing support object leaves the
// per-event handler to the caller.
func (c *webSocket) attachQueue() (ok bool) {
	support := js.Global().Get(supportGlobal)
	if support.Type() != js.TypeObject ||
		support.Get("queueWebSocket").Type() != js.TypeFunction {
		return false
	}
	wake := js.FuncOf(func(js.Value, []js.Value) any {
		c.notify()
		return nil
	})
	defer func() {
		if r := recover(); r != nil {
			bridgeLog.Warn("frame queue of ssm.js not used", "err", panicError(r))
			c.ws.Set("onmessage", js.Null())
			wake.Release()
			ok = false
		}
	}()
	queue := support.Call("queueWebSocket", c.ws, wake)
	if queue.Type() != js.TypeObject || queue.Get("take").Type() != js.TypeFunction ||
		queue.Get("close").Type() != js.TypeFunction {
		panic(fmt.Errorf("queueWebSocket returned %s, want an object with take() "+
			"and close()", describe(queue)))
	}
	c.queue = queue
	c.funcs = append(c.funcs, wake)
	return true
}

// closeQueue stops the JavaScript queue, if c has one, so that it calls
// wake no more. detach calls it before it releases wake.
func (c *webSocket) closeQueue() {
	if c.queue.IsUndefined() {
		return
	}
	defer recoverLog("websocket frame queue close")
	c.queue.Call("close")
}

// takeQueued moves the frames of the JavaScript queue to c.frames. It
// returns an error for a batch that does not parse.
func (c *webSocket) takeQueued() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("take queued frames: %w", panicError(r))
		}
	}()
	batch := c.queue.Call("take")
	if batch.IsNull() {
		return nil
	}
	data, ok := bytesFromJS(batch)
	if !ok {
		return fmt.Errorf("take queued frames: got %s, want a Uint8Array", describe(batch))
	}
	frames, err := splitBatch(data)
	if err != nil {
		return fmt.Errorf("take queued frames: %w", err)
	}
	c.mu.Lock()
	c.frames = append(c.frames, frames...)
	c.mu.Unlock()
	return nil
}

// splitBatch splits a batch of frames, each a batchHeaderSize header and
// its bytes, into frames with their own copies of the bytes, so that a
// frame that the engine keeps does not keep the whole batch in memory.
func splitBatch(batch []byte) ([]frame, error) {
	var frames []frame
	for offset := 0; offset < len(batch); {
		rest := batch[offset:]
		if len(rest) < batchHeaderSize {
			return nil, fmt.Errorf("frame header at offset %d truncated to %d bytes",
				offset, len(rest))
		}
		size := binary.LittleEndian.Uint32(rest)
		kind := protocol.FrameKind(binary.LittleEndian.Uint32(rest[4:]))
		if kind != protocol.FrameText && kind != protocol.FrameBinary {
			return nil, fmt.Errorf("frame at offset %d has invalid kind %d", offset, kind)
		}
		if uint64(size) > uint64(len(rest)-batchHeaderSize) {
			return nil, fmt.Errorf("frame at offset %d has length %d, but %d bytes follow",
				offset, size, len(rest)-batchHeaderSize)
		}
		end := batchHeaderSize + int(size)
		data := make([]byte, size)
		copy(data, rest[batchHeaderSize:end])
		frames = append(frames, frame{kind: kind, data: data})
		offset += end
	}
	return frames, nil
}
