//go:build !js

package emulator

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// drainLimit bounds the closing drain in wall-clock time, for a client that
// never comes back.
const drainLimit = 2 * time.Minute

// plugin is the program behind a session after the handshake: a shell, a
// command, an echo or a benchmark source.
type plugin interface {
	// accept takes one in-order client payload. It is called with the
	// agent's lock held and must not block; errNotReady leaves the message
	// unacknowledged.
	accept(payloadType protocol.PayloadType, payload []byte) error
	// run streams output until the plugin ends.
	run()
	// stop ends the plugin early and releases its processes.
	stop()
}

// run performs the handshake, starts the plugin, streams its output and ends
// the session when it finishes.
func (a *agent) run() {
	if a.needsHandshake() {
		if err := a.handshake(); err != nil {
			if !errors.Is(err, errSessionEnded) {
				a.log.Warn("handshake failed", "error", err)
				a.finish(handshakeFailureText(err), true)
			}
			return
		}
	}
	if d := time.Duration(a.req.StartDelayMs) * time.Millisecond; d > 0 {
		select {
		case <-time.After(d):
		case <-a.done:
			return
		}
	}
	p, err := a.newPlugin()
	if err != nil {
		a.log.Warn("session plugin failed to start", "error", err)
		a.send(protocol.PayloadStdErr, []byte("Unable to start command: "+err.Error()+"\n"),
			outputWindow)
		a.finish("", true)
		return
	}
	if !a.setPlugin(p) {
		p.stop()
		return
	}
	p.run()
	a.finish("", true)
}

// setPlugin installs p unless the session has already ended.
func (a *agent) setPlugin(p plugin) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.finishing {
		return false
	}
	a.plugin = p
	return true
}

// newPlugin starts the plugin that the session request names.
func (a *agent) newPlugin() (plugin, error) {
	if a.req.Source != nil {
		return newSourcePlugin(a, *a.req.Source), nil
	}
	switch a.req.SessionType {
	case protocol.SessionTypeStandardStream:
		return startPTYPlugin(a, shellCommand())
	case protocol.SessionTypeInteractiveCommands:
		return startPTYPlugin(a, []string{"sh", "-c", a.req.Command})
	case protocol.SessionTypeNonInteractiveCommands:
		return startCommandPlugin(a, a.req.Command)
	default:
		return newEchoPlugin(a), nil
	}
}

// finish ends the session once: it stops the plugin, optionally waits for
// the client to acknowledge the outgoing buffer, and sends channel_closed
// with reason as Output.
func (a *agent) finish(reason string, drain bool) {
	a.mu.Lock()
	if a.finishing {
		a.mu.Unlock()
		return
	}
	a.finishing = true
	p := a.plugin
	a.mu.Unlock()

	if p != nil {
		p.stop()
	}
	if drain {
		a.drainOutgoing()
	}

	frame := a.channelClosedFrame(reason)
	a.mu.Lock()
	a.ended = true
	a.closedFrame = frame
	a.outgoing, a.incoming = nil, nil // nothing is retransmitted after the end
	conn := a.conn
	a.cond.Broadcast()
	a.mu.Unlock()
	close(a.done)

	a.log.Info("session ended", "reason", reason, "connected", conn != nil)
	conn.write(frame)
	conn.closeNormal("")
	a.cancel()
}

// drainOutgoing waits for the client to acknowledge every sent message,
// polling every 10 ms. It gives up after closeDrainTimeout of connected time
// in which no ack removed a message. The agent gives up 2 s after it
// starts, whatever the progress. Restarting the wait on each ack gives the
// retransmissions that faults cause time to deliver the end of the output.
func (a *agent) drainOutgoing() {
	const poll = 10 * time.Millisecond
	var waited time.Duration
	acks := int64(-1)
	deadline := time.Now().Add(drainLimit)
	for time.Now().Before(deadline) && waited < closeDrainTimeout {
		a.mu.Lock()
		empty, connected, received := len(a.outgoing) == 0, a.conn != nil, a.acksMatched
		a.mu.Unlock()
		if empty {
			return
		}
		if received != acks {
			acks, waited = received, 0
		}
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(poll):
		}
		if connected {
			waited += poll
		}
	}
	a.log.Warn("session closing with unacknowledged output", "waited", waited)
}

// channelClosedFrame builds the service's channel_closed message.
func (a *agent) channelClosedFrame(reason string) []byte {
	id := protocol.NewUUID().String()
	payload, _ := json.Marshal(protocol.ChannelClosed{
		MessageId:     id,
		CreatedDate:   strconv.FormatInt(time.Now().UnixMilli(), 10),
		DestinationId: a.target,
		SessionId:     a.id,
		MessageType:   protocol.TypeChannelClosed,
		SchemaVersion: 1,
		Output:        reason,
	})
	return newControlMessage(protocol.TypeChannelClosed, protocol.FlagData, payload)
}

// terminate ends the session on request of the TerminateSession API.
func (a *agent) terminate() {
	a.log.Info("session terminated by request")
	go a.finish("", true)
}

// shutdown ends the session at once when the server stops.
func (a *agent) shutdown() {
	a.finish("", false)
	a.cancel()
	a.mu.Lock()
	conn := a.conn
	a.mu.Unlock()
	conn.abort()
}

// isEnded reports whether the session has ended.
func (a *agent) isEnded() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}
