//go:build js && wasm

package profile

import (
	"syscall/js"
	"testing"
)

var (
	jsUint8Array = js.Global().Get("Uint8Array")
	jsFunction   = js.Global().Get("Function")
)

// BenchmarkCallbackIntoGo measures one JavaScript call of a js.FuncOf
// that copies a 1144-byte frame into Go and wakes another goroutine, as a
// WebSocket onmessage handler does.
func BenchmarkCallbackIntoGo(b *testing.B) {
	wake := make(chan struct{}, 1)
	go func() {
		for range wake {
		}
	}()
	handler := js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := args[0]
		buf := make([]byte, data.Get("length").Int())
		js.CopyBytesToGo(buf, data)
		select {
		case wake <- struct{}{}:
		default:
		}
		return nil
	})
	defer handler.Release()
	loop := jsFunction.New("handler", "n",
		"const frame = new Uint8Array(1144); for (let i = 0; i < n; i++) handler(frame);")
	b.ResetTimer()
	loop.Invoke(handler, b.N)
	close(wake)
}

// BenchmarkBytesToJSCall measures handing a 1024-byte payload to a
// JavaScript function as a new Uint8Array, as onData delivery does.
func BenchmarkBytesToJSCall(b *testing.B) {
	sink := jsFunction.New("return (bytes) => bytes.length;")
	sink = sink.Invoke()
	payload := make([]byte, 1024)
	b.SetBytes(1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := jsUint8Array.New(len(payload))
		js.CopyBytesToJS(a, payload)
		sink.Invoke(a)
	}
}

// BenchmarkSendPath measures the JavaScript calls of one WebSocket send
// of a 300-byte ack, with a plain object standing in for the WebSocket:
// two property reads, a new Uint8Array and the send call.
func BenchmarkSendPath(b *testing.B) {
	ws := jsFunction.New(
		"return { readyState: 1, bufferedAmount: 0, send(d) { this.n = d.length; } };").Invoke()
	ack := make([]byte, 300)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ws.Get("readyState").Int() != 1 || ws.Get("bufferedAmount").Int() > 1<<20 {
			b.Fatal("unexpected state")
		}
		a := jsUint8Array.New(len(ack))
		js.CopyBytesToJS(a, ack)
		ws.Call("send", a)
	}
}

// BenchmarkEventIntoGo measures a js.FuncOf that handles events from the
// browser's event loop (MessageChannel messages carrying a 1144-byte
// ArrayBuffer, as WebSocket messages arrive), so that each event resumes
// the Go program and pauses it again. It copies the frame and wakes a
// goroutine, as the WebSocket wrapper's onmessage does.
func BenchmarkEventIntoGo(b *testing.B) {
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	handled := 0
	go func() {
		for range wake {
		}
	}()
	handler := js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := jsUint8Array.New(args[0].Get("data"))
		buf := make([]byte, data.Get("length").Int())
		js.CopyBytesToGo(buf, data)
		select {
		case wake <- struct{}{}:
		default:
		}
		handled++
		if handled == b.N {
			close(done)
		}
		return nil
	})
	defer handler.Release()
	post := jsFunction.New("handler", "n", `
		const channel = new MessageChannel();
		channel.port1.onmessage = handler;
		const frame = new ArrayBuffer(1144);
		for (let i = 0; i < n; i++) channel.port2.postMessage(frame);
	`)
	b.ResetTimer()
	post.Invoke(handler, b.N)
	<-done
	close(wake)
}

// BenchmarkEventIntoJS is BenchmarkEventIntoGo with a JavaScript handler:
// the cost of the events themselves.
func BenchmarkEventIntoJS(b *testing.B) {
	done := make(chan struct{})
	finish := js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	defer finish.Release()
	post := jsFunction.New("finish", "n", `
		const channel = new MessageChannel();
		let handled = 0;
		channel.port1.onmessage = (e) => {
			const copy = new Uint8Array(e.data).slice();
			if (++handled === n) finish(copy.length);
		};
		const frame = new ArrayBuffer(1144);
		for (let i = 0; i < n; i++) channel.port2.postMessage(frame);
	`)
	b.ResetTimer()
	post.Invoke(finish, b.N)
	<-done
}
