//go:build js && wasm

package jsbridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"syscall/js"
)

// levelOff is above every level that code logs at, so nothing passes.
const levelOff = slog.Level(100)

// parseLevel maps the logLevel option to a slog level.
func parseLevel(s string) (slog.Level, bool) {
	switch s {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	case "off":
		return levelOff, true
	}
	return 0, false
}

// consoleHandler is a slog.Handler that writes to the browser console with
// console.debug, console.info, console.warn or console.error, so the
// console's own level filter applies. Attributes are written as key=value
// after the message; groups prefix their keys.
type consoleHandler struct {
	level  slog.Leveler
	attrs  string // preformatted attributes from WithAttrs
	prefix string // group prefix for keys, "g1.g2."
}

func newConsoleLogger(level slog.Leveler) *slog.Logger {
	return slog.New(&consoleHandler{level: level})
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("ssm: ")
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.prefix, a)
		return true
	})
	js.Global().Get("console").Call(consoleMethod(r.Level), b.String())
	return nil
}

func (h *consoleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range attrs {
		writeAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs += b.String()
	return &h2
}

func (h *consoleHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix += name + "."
	return &h2
}

func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			writeAttr(b, prefix+a.Key+".", g)
		}
		return
	}
	fmt.Fprintf(b, " %s%s=%q", prefix, a.Key, a.Value.String())
}

func consoleMethod(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	default:
		return "debug"
	}
}

// bridgeLog logs events that belong to no session, such as a panic in a
// WebSocket event handler.
var bridgeLog = newConsoleLogger(slog.LevelWarn)

// recoverLog recovers a panic in a callback from JavaScript and logs it, so
// the Go program keeps running. Use it as: defer recoverLog("what").
func recoverLog(what string) {
	if r := recover(); r != nil {
		bridgeLog.Error("recovered from a panic", "in", what, "err", panicError(r))
	}
}
