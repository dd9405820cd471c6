//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall/js"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// sendFramesFunc returns the sendFrames(ws, batch) function of the
// support object of ssm.js, or undefined. That function sends every frame
// of a batch in the format that splitBatch reads.
func sendFramesFunc() (fn js.Value) {
	defer func() {
		if r := recover(); r != nil {
			fn = js.Undefined()
		}
	}()
	support := js.Global().Get(supportGlobal)
	if support.Type() != js.TypeObject {
		return js.Undefined()
	}
	fn = support.Get("sendFrames")
	if fn.Type() != js.TypeFunction {
		return js.Undefined()
	}
	return fn
}

// SendBatch writes the frames in order. It reads bufferedAmount once for
// the batch and waits while the browser holds more than maxBuffered bytes
// unsent. With the support object of ssm.js it copies the batch into
// JavaScript and sends it in one call; without it, it sends each frame.
// It implements protocol.BatchSender.
func (c *webSocket) SendBatch(ctx context.Context, frames []protocol.Frame) error {
	if err := c.waitBuffer(ctx); err != nil {
		return err
	}
	if c.sendFrames.IsUndefined() {
		for _, f := range frames {
			if err := c.send(f.Kind, f.Data); err != nil {
				return err
			}
		}
		return nil
	}
	return c.sendBatch(frames)
}

func (c *webSocket) sendBatch(frames []protocol.Frame) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("websocket send: %w", panicError(r))
		}
	}()
	buf := c.sendBuf[:0]
	for _, f := range frames {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(f.Data)))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(f.Kind))
		buf = append(buf, f.Data...)
	}
	batch := bytesToJS(buf)
	clear(buf) // the batch may contain input, which should not linger
	c.sendBuf = buf
	c.sendFrames.Invoke(c.ws, batch)
	return nil
}
