//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"
	"unicode/utf8"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// maxBuffered is the number of bytes the browser may hold in a WebSocket's
// send buffer before Send waits. The browser never refuses a send, so
// without this limit a large paste would sit in memory at once.
const maxBuffered = 1 << 20

// bufferPoll is the longest wait between two checks of bufferedAmount,
// which the browser reports without an event when it shrinks.
const bufferPoll = 20 * time.Millisecond

// webSocket is a protocol.Transport on the browser's WebSocket.
type webSocket struct {
	ws    js.Value
	funcs []js.Func
	queue js.Value // the frame queue of ssm.js, or undefined (see attachQueue)

	// sendFrames is the batch send function of ssm.js, or undefined (see
	// SendBatch). sendBuf is SendBatch's storage; the writer alone uses
	// both.
	sendFrames js.Value
	sendBuf    []byte

	// queueFailed is set by Receive when a batch of the queue did not
	// parse; Receive alone reads it.
	queueFailed bool

	opened  chan struct{}
	signal  chan struct{} // has a value when frames or the close arrived
	mu      sync.Mutex
	frames  []frame
	closed  error // set once by onclose
	failure bool  // onerror fired
}

type frame struct {
	kind protocol.FrameKind
	data []byte
}

// Dial opens a WebSocket to url and waits until it is open. It implements
// protocol.Dialer.
func Dial(ctx context.Context, url string) (_ protocol.Transport, err error) {
	c := &webSocket{
		opened: make(chan struct{}),
		signal: make(chan struct{}, 1),
	}
	if err := c.open(url); err != nil {
		return nil, fmt.Errorf("open websocket: %w", err)
	}

	select {
	case <-c.opened:
		return c, nil
	case <-c.signal:
		return nil, fmt.Errorf("open websocket: %w", c.closeError())
	case <-ctx.Done():
		c.Close(1000, "")
		return nil, fmt.Errorf("open websocket: %w", ctx.Err())
	}
}

// open creates the browser WebSocket and installs its event handlers. The
// constructor throws a SyntaxError for an invalid URL.
func (c *webSocket) open(url string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	c.ws = js.Global().Get("WebSocket").New(url)
	c.ws.Set("binaryType", "arraybuffer")
	c.handle("onopen", c.onOpen)
	if !c.attachQueue() {
		c.handle("onmessage", c.onMessage)
	}
	c.sendFrames = sendFramesFunc()
	c.handle("onerror", c.onError)
	c.handle("onclose", c.onClose)
	return nil
}

func (c *webSocket) handle(event string, fn func(js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer recoverLog("websocket " + event)
		fn(arg(args, 0))
		return nil
	})
	c.funcs = append(c.funcs, f)
	c.ws.Set(event, f)
}

func (c *webSocket) onOpen(js.Value) { close(c.opened) }

// onMessage copies the frame into Go and queues it. It never blocks, so the
// queue has no bound. NOTE: it relies on the engine reading frames as fast
// as the browser delivers them; nothing limits a peer that floods faster.
func (c *webSocket) onMessage(event js.Value) {
	data := event.Get("data")
	f := frame{kind: protocol.FrameText}
	if data.Type() == js.TypeString {
		f.data = []byte(data.String())
	} else {
		f.kind = protocol.FrameBinary
		f.data, _ = bytesFromJS(data)
	}

	c.mu.Lock()
	c.frames = append(c.frames, f)
	c.mu.Unlock()
	c.notify()
}

// onError records that the connection failed. Browsers give no detail
// here; onclose follows with code 1006.
func (c *webSocket) onError(js.Value) {
	c.mu.Lock()
	c.failure = true
	c.mu.Unlock()
}

func (c *webSocket) onClose(event js.Value) {
	code := event.Get("code").Int()
	reason := event.Get("reason").String()

	c.mu.Lock()
	if code == 1006 || c.failure {
		// 1006 is never sent by a peer: the browser reports it when the
		// connection ended without a close frame.
		c.closed = fmt.Errorf("websocket connection lost (code %d)", code)
	} else {
		c.closed = &protocol.CloseError{Code: code, Reason: reason}
	}
	c.mu.Unlock()

	c.detach()
	c.notify()
}

// detach sets the event handlers to null before releasing them, so a late
// event never calls a released function. It may run inside onclose:
// releasing the running function there is safe. Later calls do nothing.
func (c *webSocket) detach() {
	c.mu.Lock()
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	if funcs == nil {
		return
	}
	for _, event := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		c.ws.Set(event, js.Null())
	}
	c.closeQueue()
	for _, f := range funcs {
		f.Release()
	}
}

func (c *webSocket) notify() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *webSocket) closeError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed == nil {
		return errors.New("websocket closed")
	}
	return c.closed
}

// Receive returns the next frame. After the last frame it returns a
// *protocol.CloseError for a close frame from the peer, or an error for a
// connection lost without one. It must not be called concurrently.
func (c *webSocket) Receive(ctx context.Context) (protocol.FrameKind, []byte, error) {
	for {
		if err := c.fillFrames(); err != nil {
			return 0, nil, err
		}
		c.mu.Lock()
		if len(c.frames) > 0 {
			f := c.frames[0]
			c.frames[0] = frame{}
			c.frames = c.frames[1:]
			c.mu.Unlock()
			return f.kind, f.data, nil
		}
		closed := c.closed
		c.mu.Unlock()
		if closed != nil {
			c.notify() // let a later Receive return at once too
			return 0, nil, closed
		}

		select {
		case <-c.signal:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// fillFrames takes the frames of the JavaScript queue, if c has one, when
// no frame is left in c.frames. Frames that arrived before the close event
// are queued by then, so they are taken before Receive reports the close.
// A batch that does not parse closes the connection.
func (c *webSocket) fillFrames() error {
	c.mu.Lock()
	empty := len(c.frames) == 0
	c.mu.Unlock()
	if !empty || c.queue.IsUndefined() || c.queueFailed {
		return nil
	}
	err := c.takeQueued()
	if err == nil {
		return nil
	}
	c.queueFailed = true
	c.mu.Lock()
	if c.closed == nil {
		c.closed = err
	}
	c.mu.Unlock()
	c.Close(1000, "invalid frame batch")
	return err
}

// Send writes one frame. It waits while the browser holds more than
// maxBuffered bytes unsent.
func (c *webSocket) Send(ctx context.Context, kind protocol.FrameKind, data []byte) error {
	if err := c.waitBuffer(ctx); err != nil {
		return err
	}
	return c.send(kind, data)
}

func (c *webSocket) send(kind protocol.FrameKind, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("websocket send: %w", panicError(r))
		}
	}()
	if kind == protocol.FrameText {
		c.ws.Call("send", string(data))
	} else {
		c.ws.Call("send", bytesToJS(data))
	}
	return nil
}

func (c *webSocket) waitBuffer(ctx context.Context) error {
	wait := time.Millisecond
	for {
		if err := c.sendable(); err != nil {
			return err
		}
		if c.ws.Get("bufferedAmount").Int() <= maxBuffered {
			return nil
		}

		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, bufferPoll)
	}
}

// sendable returns an error when the socket is closing or closed; the
// browser would drop the frame silently.
func (c *webSocket) sendable() error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed != nil {
		return fmt.Errorf("websocket send: %w", closed)
	}
	if c.ws.Get("readyState").Int() != 1 { // OPEN
		return errors.New("websocket send: connection is closing")
	}
	return nil
}

// Close closes the connection. Browsers let a page send only code 1000 or
// a code from 3000 to 4999, and a reason of at most 123 bytes.
func (c *webSocket) Close(code int, reason string) (err error) {
	if code != 1000 && (code < 3000 || code > 4999) {
		return fmt.Errorf("websocket close: code %d not allowed in a browser "+
			"(use 1000 or 3000-4999)", code)
	}
	reason = truncateUTF8(reason, 123)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("websocket close: %w", panicError(r))
		}
	}()
	c.ws.Call("close", code, reason)

	// Nothing after a close of this side matters to the engine, so the
	// handlers go now: late events must not reach a program that may
	// have exited by then.
	c.mu.Lock()
	if c.closed == nil {
		c.closed = fmt.Errorf("websocket closed by this side with code %d", code)
	}
	c.mu.Unlock()
	c.detach()
	c.notify()
	return nil
}

// truncateUTF8 shortens s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
