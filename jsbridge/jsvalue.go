//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
)

var (
	jsObject     = js.Global().Get("Object")
	jsPromise    = js.Global().Get("Promise")
	jsUint8Array = js.Global().Get("Uint8Array")
	jsArrayBuf   = js.Global().Get("ArrayBuffer")
)

// newError returns a JavaScript Error with the given name and message.
func newError(name, message string) js.Value {
	e := js.Global().Get("Error").New(message)
	e.Set("name", name)
	return e
}

// newTypeError returns a JavaScript TypeError.
func newTypeError(format string, args ...any) js.Value {
	return js.Global().Get("TypeError").New(fmt.Sprintf(format, args...))
}

// newPromise returns a pending promise and the functions that settle it.
// The executor runs synchronously inside the Promise constructor, so it is
// released as soon as the constructor returns.
func newPromise() (p, resolve, reject js.Value) {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	p = jsPromise.New(executor)
	executor.Release()
	return p, resolve, reject
}

// rejected returns a promise rejected with reason.
func rejected(reason js.Value) js.Value {
	return jsPromise.Call("reject", reason)
}

// await waits for a JavaScript value that may be a promise. It must run in
// a goroutine, never inside a callback from JavaScript, because the event
// loop settles the promise only after the callback returns.
func await(ctx context.Context, v js.Value) (js.Value, error) {
	type settled struct {
		value js.Value
		err   error
	}
	done := make(chan settled, 1)

	// A promise settles once, so exactly one of the two functions runs; it
	// releases both. When ctx ends first they stay registered until then.
	var onFulfilled, onRejected js.Func
	release := func() {
		onFulfilled.Release()
		onRejected.Release()
	}
	onFulfilled = js.FuncOf(func(_ js.Value, args []js.Value) any {
		release()
		done <- settled{value: arg(args, 0)}
		return nil
	})
	onRejected = js.FuncOf(func(_ js.Value, args []js.Value) any {
		release()
		done <- settled{err: errorFromJS(arg(args, 0))}
		return nil
	})
	jsPromise.Call("resolve", v).Call("then", onFulfilled, onRejected)

	select {
	case s := <-done:
		return s.value, s.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// callJS calls fn with args and turns a thrown exception into an error.
func callJS(fn js.Value, args ...any) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return fn.Invoke(args...), nil
}

// errorFromJS converts a rejection reason or a thrown value to an error.
func errorFromJS(v js.Value) error {
	if v.Type() == js.TypeObject && !v.Get("message").IsUndefined() {
		name := v.Get("name")
		if name.Type() == js.TypeString && name.String() != "Error" {
			return fmt.Errorf("%s: %s", name.String(), v.Get("message").String())
		}
		return errors.New(v.Get("message").String())
	}
	return fmt.Errorf("%s", describe(v))
}

// panicError converts a recovered panic value to an error.
func panicError(r any) error {
	switch e := r.(type) {
	case js.Error:
		return errorFromJS(e.Value)
	case error:
		return e
	default:
		return fmt.Errorf("%v", r)
	}
}

// describe returns a short description of v for error messages, without
// its content.
func describe(v js.Value) string {
	switch v.Type() {
	case js.TypeString:
		return "string"
	case js.TypeObject:
		if v.InstanceOf(jsUint8Array) {
			return "Uint8Array"
		}
		if js.Global().Get("Array").Call("isArray", v).Bool() {
			return "array"
		}
		return "object"
	default:
		return v.Type().String()
	}
}

// arg returns args[i], or undefined when the caller passed fewer.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// bytesFromJS copies a Uint8Array or ArrayBuffer into a new slice.
func bytesFromJS(v js.Value) ([]byte, bool) {
	if v.Type() != js.TypeObject {
		return nil, false
	}
	if v.InstanceOf(jsArrayBuf) {
		v = jsUint8Array.New(v)
	}
	if !v.InstanceOf(jsUint8Array) {
		return nil, false
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b, true
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := jsUint8Array.New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}
