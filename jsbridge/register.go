//go:build js && wasm

package jsbridge

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"syscall/js"
)

// registry maps session handles to sessions. Ended sessions stay, so that
// closed(handle) and info(handle) keep working; each costs a few hundred
// bytes after its end.
var registry = struct {
	mu       sync.Mutex
	next     int
	sessions map[int]*session
}{sessions: make(map[int]*session)}

var registerOnce sync.Once

// dispose is the one function behind every dispose function that onData,
// onStderr and onState return, bound to a handle and a subscriber id. It
// is never released, so a page may call a dispose function at any time.
var dispose js.Func

// Register installs the global namespace globalThis.ssm. Calling it again
// has no effect. The functions are never released.
func Register() {
	registerOnce.Do(func() {
		dispose = js.FuncOf(guard("dispose", disposeSubscriber, false))
		api := map[string]func([]js.Value) any{
			"startSession": startSession,
			"sendText":     sendText,
			"onData":       subscribeFunc("onData", subData),
			"onStderr":     subscribeFunc("onStderr", subStderr),
			"onState":      subscribeFunc("onState", subState),
			"resize":       resize,
			"terminate":    terminate,
			"closed":       closed,
			"info":         info,
		}
		ns := jsObject.New()
		for name, fn := range api {
			ns.Set(name, js.FuncOf(guard(name, fn, returnsPromise[name])))
		}
		js.Global().Set("ssm", ns)
	})
}

// returnsPromise names the functions of the namespace whose result is a
// promise, so that guard keeps that contract when it recovers a panic.
var returnsPromise = map[string]bool{"startSession": true, "closed": true}

// guard adapts fn to js.FuncOf and turns a panic into a returned Error, or
// a promise rejected with it when fn returns a promise, so a bug never ends
// the Go program.
func guard(name string, fn func([]js.Value) any, promise bool) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				err := panicError(r)
				bridgeLog.Error("recovered from a panic", "in", name, "err", err)
				e := newError("Error", fmt.Sprintf("%s: internal error: %v", name, err))
				result = e
				if promise {
					result = rejected(e)
				}
			}
		}()
		return fn(args)
	}
}

func startSession(args []js.Value) any {
	o, err := parseOptions(arg(args, 0))
	if err != nil {
		var a *argError
		if errors.As(err, &a) {
			return rejected(newTypeError("%s", err.Error()))
		}
		return rejected(newError("OpenError", "startSession: "+err.Error()))
	}

	registry.mu.Lock()
	registry.next++
	id := registry.next
	s := newSession(id, o)
	registry.sessions[id] = s
	registry.mu.Unlock()

	p, resolve, reject := newPromise()
	go func() {
		if !s.open(o, resolve, reject) {
			forget(id)
		}
	}()
	return p
}

// forget removes a session that never opened; the page has no handle.
func forget(id int) {
	registry.mu.Lock()
	delete(registry.sessions, id)
	registry.mu.Unlock()
}

// lookup returns the session of a handle, or a TypeError naming fn.
func lookup(fn string, handle js.Value) (*session, js.Value) {
	if handle.Type() != js.TypeNumber || handle.Float() != math.Trunc(handle.Float()) {
		return nil, newTypeError("%s: handle must be a session handle "+
			"(the number startSession resolves to), got %s", fn, describeNumber(handle))
	}
	registry.mu.Lock()
	s := registry.sessions[handle.Int()]
	registry.mu.Unlock()
	if s == nil {
		return nil, newTypeError("%s: unknown session handle %d", fn, handle.Int())
	}
	return s, js.Undefined()
}

// sendText queues a string (sent as UTF-8) or a Uint8Array as input.
func sendText(args []js.Value) any {
	s, jsErr := lookup("sendText", arg(args, 0))
	if s == nil {
		return jsErr
	}
	data := arg(args, 1)
	var p []byte
	if data.Type() == js.TypeString {
		p = []byte(data.String())
	} else if b, ok := bytesFromJS(data); ok {
		p = b
	} else {
		return newTypeError("sendText: data must be a string or Uint8Array, got %s",
			describe(data))
	}
	if err := s.queueInput(p); err != nil {
		return newTypeError("sendText: session handle %d: %v", s.id, err)
	}
	return js.Undefined()
}

func subscribeFunc(name string, kind int) func([]js.Value) any {
	return func(args []js.Value) any {
		s, jsErr := lookup(name, arg(args, 0))
		if s == nil {
			return jsErr
		}
		cb := arg(args, 1)
		if cb.Type() != js.TypeFunction {
			return newTypeError("%s: callback must be a function, got %s",
				name, describe(cb))
		}
		id := s.subscribe(kind, cb)
		return dispose.Call("bind", js.Null(), s.id, id)
	}
}

func disposeSubscriber(args []js.Value) any {
	registry.mu.Lock()
	s := registry.sessions[arg(args, 0).Int()]
	registry.mu.Unlock()
	if s != nil {
		s.unsubscribe(arg(args, 1).Int())
	}
	return js.Undefined()
}

// resize requests a terminal size.
func resize(args []js.Value) any {
	s, jsErr := lookup("resize", arg(args, 0))
	if s == nil {
		return jsErr
	}
	cols, err := intArg(arg(args, 1), "cols")
	if err == nil {
		var rows int
		rows, err = intArg(arg(args, 2), "rows")
		if err == nil {
			return s.resize(cols, rows)
		}
	}
	return newTypeError("resize: %v", err)
}

func intArg(v js.Value, name string) (int, error) {
	if v.Type() == js.TypeNumber {
		x := v.Float()
		if x == math.Trunc(x) && x >= 1 && x <= math.MaxUint16 {
			return int(x), nil
		}
	}
	return 0, fmt.Errorf("%s must be an integer from 1 to %d, got %s",
		name, math.MaxUint16, describeNumber(v))
}

// terminate ends the session; for an ended session it does nothing.
func terminate(args []js.Value) any {
	s, jsErr := lookup("terminate", arg(args, 0))
	if s == nil {
		return jsErr
	}
	s.terminate()
	return js.Undefined()
}

// closed returns the promise that resolves with {exitCode, reason, clean}
// when the session ends.
func closed(args []js.Value) any {
	s, jsErr := lookup("closed", arg(args, 0))
	if s == nil {
		return rejected(jsErr)
	}
	return s.closed
}

// info returns {sessionId, customerMessage, encrypted, sessionType, state}.
func info(args []js.Value) any {
	s, jsErr := lookup("info", arg(args, 0))
	if s == nil {
		return jsErr
	}
	return s.info()
}
