//go:build !js

package emulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// errNotReady is returned by a plugin that cannot take input yet. The
// message is not acknowledged, so the client retransmits it.
var errNotReady = errors.New("plugin not ready for input")

// handleFrame routes one frame received from the client.
func (a *agent) handleFrame(c *wsConn, frame []byte) {
	m, err := protocol.Unmarshal(frame)
	if err != nil {
		a.log.Warn("invalid frame from client ignored", "error", err)
		return
	}
	switch m.MessageType {
	case protocol.TypeAcknowledge:
		a.handleAck(m)
	case protocol.TypeInputStreamData:
		a.handleInput(c, m)
	default:
		a.log.Debug("unexpected message type from client ignored", "type", m.MessageType)
	}
}

// handleInput applies the agent's sequencing rules to a client stream
// message: deliver it when it is the expected one, buffer it when it is
// ahead, and acknowledge it again when it is a duplicate.
func (a *agent) handleInput(c *wsConn, m *protocol.Message) {
	a.mu.Lock()
	if a.ended {
		a.mu.Unlock()
		return
	}
	seq := m.SequenceNumber
	_, buffered := a.incoming[seq]
	duplicate := seq < a.expected || buffered
	if !duplicate {
		switch a.faults.input(m) {
		case inputIgnore:
			a.mu.Unlock()
			return
		case inputDrop:
			claimed := a.conn == c && c.dropped.CompareAndSwap(false, true)
			a.mu.Unlock()
			if !claimed {
				a.faults.refundDrop()
				return
			}
			a.log.Info("fault applied", "fault", FaultDropSocket, "connection", c.id,
				"payloadType", m.PayloadType)
			c.abort()
			return
		}
	}

	acked := false
	switch {
	case duplicate:
		acked = true
	case seq == a.expected:
		if acked = a.deliverLocked(m); acked {
			a.faults.accepted()
			a.expected++
			a.drainIncomingLocked()
		}
	case len(a.incoming) < incomingCapacity:
		a.incoming[seq] = m
		a.faults.accepted()
		acked = true
	}
	a.mu.Unlock()
	if acked {
		c.write(newAck(m))
	}
}

// newAck builds the acknowledge frame of a client stream message.
func newAck(m *protocol.Message) []byte {
	payload, _ := json.Marshal(protocol.AcknowledgeContent{
		AcknowledgedMessageType:           m.MessageType,
		AcknowledgedMessageId:             m.MessageID.String(),
		AcknowledgedMessageSequenceNumber: m.SequenceNumber,
		IsSequentialMessage:               true,
	})
	return newControlMessage(protocol.TypeAcknowledge, protocol.FlagAck, payload)
}

// drainIncomingLocked delivers buffered messages that are now in order. It
// stops at a message the plugin is not ready for; retryIncoming tries again.
func (a *agent) drainIncomingLocked() {
	for {
		m, ok := a.incoming[a.expected]
		if !ok || !a.deliverLocked(m) {
			return
		}
		delete(a.incoming, a.expected)
		a.expected++
	}
}

// retryIncoming delivers buffered messages after a plugin became ready.
func (a *agent) retryIncoming() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.drainIncomingLocked()
}

// deliverLocked hands one in-order message to the handshake or the plugin and
// reports whether it was taken. It must not block.
func (a *agent) deliverLocked(m *protocol.Message) bool {
	if !a.handshakeDone {
		return a.deliverHandshakeLocked(m)
	}
	payload := m.Payload
	if m.PayloadType == protocol.PayloadOutput && a.cipher != nil {
		plain, err := a.cipher.decrypt(payload)
		if err != nil {
			a.log.Warn("client output discarded", "seq", m.SequenceNumber, "error", err)
			return true
		}
		payload = plain
	}
	if a.plugin == nil {
		return false
	}
	err := a.plugin.accept(m.PayloadType, payload)
	if err != nil && !errors.Is(err, errNotReady) {
		a.log.Warn("client input discarded", "seq", m.SequenceNumber,
			"payloadType", m.PayloadType, "error", err)
		return true
	}
	return err == nil
}

// deliverHandshakeLocked takes a message before HandshakeComplete. Handshake
// responses go to the handshake; anything else is acknowledged and dropped,
// as the agent does.
func (a *agent) deliverHandshakeLocked(m *protocol.Message) bool {
	switch m.PayloadType {
	case protocol.PayloadHandshakeResponse:
		select {
		case a.handshakeIn <- m:
			return true
		default:
			return false
		}
	case protocol.PayloadEncChallengeResponse:
		return a.checkChallengeLocked(m.Payload)
	default:
		a.log.Debug("client data before handshake completion dropped",
			"seq", m.SequenceNumber, "payloadType", m.PayloadType)
		return true
	}
}

// checkChallengeLocked verifies an EncChallengeResponse. A response that does
// not match is not acknowledged, so the handshake times out.
func (a *agent) checkChallengeLocked(payload []byte) bool {
	if a.challenge == nil || a.cipher == nil {
		return false
	}
	if a.faults.has(FaultWrongChallenge) {
		a.log.Info("fault applied", "fault", FaultWrongChallenge)
		closeOnce(a.challengeBad)
		return false
	}
	var resp protocol.EncChallenge
	if err := json.Unmarshal(payload, &resp); err != nil {
		a.log.Warn("invalid encryption challenge response", "error", err)
		closeOnce(a.challengeBad)
		return false
	}
	plain, err := a.cipher.decrypt(resp.Challenge)
	if err != nil || subtle.ConstantTimeCompare(plain, a.challenge) != 1 {
		a.log.Warn("encryption challenge does not match")
		closeOnce(a.challengeBad)
		return false
	}
	closeOnce(a.challengeOK)
	return true
}

// closeOnce closes ch unless it is already closed. Callers hold the
// agent's lock, so two calls never race.
func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// isTerminateFlag reports whether payload is the TerminateSession flag.
func isTerminateFlag(payload []byte) bool {
	return bytes.Equal(payload, []byte{0, 0, 0, byte(protocol.FlagTerminateSession)})
}
