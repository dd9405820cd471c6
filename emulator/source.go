//go:build !js

package emulator

import (
	"fmt"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// Source kinds of a benchmark session.
const (
	SourceFlood  = "flood"
	SourceWindow = "window"
)

// sourcePattern is the byte pattern of benchmark output: byte k of the whole
// stream is sourcePattern[k%64].
const sourcePattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"

// Source makes a session send benchmark output instead of running a shell.
type Source struct {
	// Kind is "flood" (send as fast as the socket allows) or "window" (at
	// most Window messages sent and not yet matched by an ack).
	Kind string `json:"kind"`
	// Count is the number of Output messages (default 1000).
	Count int `json:"count,omitempty"`
	// Size is the payload size in bytes, 1 to 1024 (default 1024).
	Size int `json:"size,omitempty"`
	// Window is the window of "window" in messages (default 64).
	Window int `json:"window,omitempty"`
}

// normalize checks s and fills in its defaults.
func (s Source) normalize() (Source, error) {
	switch s.Kind {
	case SourceFlood, SourceWindow:
	default:
		return s, fmt.Errorf("source kind %q: expected flood or window", s.Kind)
	}
	if s.Count < 0 || s.Size < 0 || s.Window < 0 {
		return s, fmt.Errorf("source: count %d, size %d and window %d must not be negative",
			s.Count, s.Size, s.Window)
	}
	s.Count = orDefault(s.Count, 1000)
	s.Size = orDefault(s.Size, maxPayload)
	s.Window = orDefault(s.Window, 64)
	if s.Size > maxPayload {
		return s, fmt.Errorf("source size %d: expected at most %d", s.Size, maxPayload)
	}
	return s, nil
}

// sourcePayload returns the n bytes of the pattern stream that start at
// offset.
func sourcePayload(offset int64, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = sourcePattern[(offset+int64(i))%int64(len(sourcePattern))]
	}
	return p
}

// sourcePlugin sends Count Output messages of Size bytes, then ends the
// session. Client input is acknowledged and dropped.
type sourcePlugin struct {
	a    *agent
	spec Source
}

func newSourcePlugin(a *agent, spec Source) *sourcePlugin {
	return &sourcePlugin{a: a, spec: spec}
}

func (p *sourcePlugin) accept(protocol.PayloadType, []byte) error { return nil }

// run sends the messages. In window mode every ack received, whatever
// message it names, frees one slot, so a client that acknowledges each
// message with one fixed ack keeps the window moving.
func (p *sourcePlugin) run() {
	base := p.a.ackCount()
	for i := 0; i < p.spec.Count; i++ {
		if p.spec.Kind == SourceWindow && !p.a.waitWindow(base, int64(i), p.spec.Window) {
			return
		}
		payload := sourcePayload(int64(i)*int64(p.spec.Size), p.spec.Size)
		if p.a.send(protocol.PayloadOutput, payload, outgoingCapacity) != nil {
			return
		}
	}
}

func (p *sourcePlugin) stop() {}

// ackCount returns how many acks the session has received.
func (a *agent) ackCount() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acksReceived
}

// waitWindow waits until fewer than window of the sent messages are
// unmatched by acks received since base, and reports whether the session is
// still running.
func (a *agent) waitWindow(base, sent int64, window int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for !a.ended && sent-(a.acksReceived-base) >= int64(window) {
		a.cond.Wait()
	}
	return !a.ended
}
