//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall/js"
)

var (
	jsObject     = js.Global().Get("Object")
	jsPromise    = js.Global().Get("Promise")
	jsUint8Array = js.Global().Get("Uint8Array")
	jsArrayBuf   = js.Global().Get("ArrayBuffer")
	jsReflect    = js.Global().Get("Reflect")
	jsToString   = jsObject.Get("prototype").Get("toString")
)

// get returns v[name] for a value from the page. js.Value.Get lets an
// exception of a getter or a proxy trap unwind through the Go frames and
// strand the goroutine; Reflect.get through Call turns it into a panic of
// js.Error, which the callers recover.
func get(v js.Value, name string) js.Value {
	return jsReflect.Call("get", v, name)
}

// tryGet is get that returns an exception as an error.
func tryGet(v js.Value, name string) (f js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = js.Undefined(), fmt.Errorf("reading %s threw an exception", name)
		}
	}()
	return get(v, name), nil
}

// tag returns the built-in class of v, such as "Uint8Array", from
// Object.prototype.toString, which no getter or proxy trap of v can throw
// from. It returns "" for a value that is not an object.
func tag(v js.Value) string {
	if v.Type() != js.TypeObject {
		return ""
	}
	t := jsToString.Call("call", v).String()
	return strings.TrimSuffix(strings.TrimPrefix(t, "[object "), "]")
}

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
// A value whose name or message cannot be read is described by its type.
func errorFromJS(v js.Value) error {
	if v.Type() != js.TypeObject {
		return fmt.Errorf("%s", describe(v))
	}
	message, err := tryGet(v, "message")
	if err != nil || message.Type() != js.TypeString {
		return fmt.Errorf("%s", describe(v))
	}
	name, err := tryGet(v, "name")
	if err == nil && name.Type() == js.TypeString && name.String() != "Error" {
		return fmt.Errorf("%s: %s", name.String(), message.String())
	}
	return errors.New(message.String())
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
		switch t := tag(v); t {
		case "Uint8Array", "ArrayBuffer":
			return t
		case "Array":
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

// bytesFromJS copies a Uint8Array or ArrayBuffer into a new slice. It
// checks the built-in class rather than instanceof and copies through a
// new Uint8Array, which reads v's internal slots, so neither a proxy nor a
// lying length getter reaches the copy.
func bytesFromJS(v js.Value) ([]byte, bool) {
	switch tag(v) {
	case "ArrayBuffer", "Uint8Array":
	default:
		return nil, false
	}
	fresh := jsUint8Array.New(v)
	b := make([]byte, fresh.Get("length").Int())
	js.CopyBytesToGo(b, fresh)
	return b, true
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := jsUint8Array.New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}
