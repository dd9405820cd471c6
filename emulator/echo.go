//go:build !js

package emulator

import (
	"sync"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// echoPlugin replaces a Port session's destination. It sends every client
// Output payload back unchanged and ends the session on the TerminateSession
// flag.
type echoPlugin struct {
	a         *agent
	queue     chan []byte
	terminate chan struct{}
	once      sync.Once
}

func newEchoPlugin(a *agent) *echoPlugin {
	return &echoPlugin{a: a, queue: make(chan []byte, inputQueueSize),
		terminate: make(chan struct{})}
}

func (p *echoPlugin) accept(payloadType protocol.PayloadType, payload []byte) error {
	switch {
	case payloadType == protocol.PayloadOutput:
		select {
		case p.queue <- payload:
			return nil
		default:
			return errNotReady
		}
	case payloadType == protocol.PayloadFlag && isTerminateFlag(payload):
		p.a.log.Info("TerminateSession flag received")
		p.stop()
	}
	return nil
}

// run echoes queued payloads until the TerminateSession flag or the end of
// the session.
func (p *echoPlugin) run() {
	for {
		select {
		case b := <-p.queue:
			if p.a.send(protocol.PayloadOutput, b, outputWindow) != nil {
				return
			}
		case <-p.terminate:
			return
		}
	}
}

func (p *echoPlugin) stop() {
	p.once.Do(func() { close(p.terminate) })
}
