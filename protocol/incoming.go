package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// IncomingCapacity is the maximum number of out-of-order messages the
// client stores. A message that finds no room is dropped without an ack,
// so the agent sends it again.
const IncomingCapacity = 10000

// IncomingMaxBytes bounds the payload bytes of stored out-of-order
// messages, so that a peer sending large frames far ahead cannot grow the
// buffer without limit. The agent's messages carry at most about 1 KiB,
// so IncomingCapacity of them fit.
const IncomingMaxBytes = 16 << 20

// incomingBuffer holds agent messages that arrived ahead of the expected
// sequence number. Every stored message has been acked.
type incomingBuffer struct {
	expected    int64
	stored      map[int64]*Message
	storedBytes int
}

func newIncomingBuffer() incomingBuffer {
	return incomingBuffer{stored: make(map[int64]*Message)}
}

// handleStreamData applies the ack policy to one output_stream_data
// message: in order it is delivered, ahead it is stored and acked, and a
// duplicate is acked again and dropped.
func (s *Session) handleStreamData(m *Message) {
	seq := m.SequenceNumber
	if seq >= s.in.expected && s.paused {
		s.setPaused(false)
	}
	switch {
	case seq == s.in.expected:
		if s.deliver(m, false) {
			s.advance()
		}
	case seq > s.in.expected:
		s.store(m)
	default:
		s.sendAck(m)
	}
}

// store keeps a message that arrived ahead of the expected one and acks
// it. A message beyond the buffer's reach, or one that finds it full, is
// dropped without an ack, so the agent sends it again later.
func (s *Session) store(m *Message) {
	if _, dup := s.in.stored[m.SequenceNumber]; !dup {
		switch {
		case m.SequenceNumber-s.in.expected > IncomingCapacity:
			s.drops.note(s.log, "message too far ahead", "seq", m.SequenceNumber)
			return
		case len(s.in.stored) >= IncomingCapacity,
			s.in.storedBytes+len(m.Payload) > IncomingMaxBytes:
			s.drops.note(s.log, "incoming buffer full", "seq", m.SequenceNumber)
			return
		}
		s.in.stored[m.SequenceNumber] = m
		s.in.storedBytes += len(m.Payload)
	}
	s.sendAck(m)
}

// advance moves past the delivered message and drains the buffer.
func (s *Session) advance() {
	s.in.expected++
	s.drain()
}

// drain delivers the stored messages that follow the delivered ones. A
// stored message that is not ready yet stays stored until the session
// opens and drains again.
func (s *Session) drain() {
	for !s.ended {
		m, ok := s.in.stored[s.in.expected]
		if !ok {
			return
		}
		delete(s.in.stored, m.SequenceNumber)
		s.in.storedBytes -= len(m.Payload)
		if !s.deliver(m, true) {
			if !s.ended {
				s.in.stored[m.SequenceNumber] = m
				s.in.storedBytes += len(m.Payload)
			}
			return
		}
		s.in.expected++
	}
}

// deliver dispatches the message at the expected sequence number and
// reports whether the session may move past it. Handshake messages are
// acked before they are processed; other messages only once they are
// accepted.
func (s *Session) deliver(m *Message, acked bool) bool {
	switch m.PayloadType {
	case PayloadHandshakeRequest, PayloadHandshakeComplete, PayloadEncChallengeRequest:
		if !acked {
			s.sendAck(m)
		}
		s.handleHandshakeMessage(m)
		return true
	}
	if !s.readyFor(m) {
		return false
	}
	first := s.phase == phaseFirstMessage
	if first && !s.acceptNoHandshake() {
		return false
	}
	payload, err := s.decryptPayload(m)
	if err != nil {
		s.fail(s.phaseStep(), err)
		return false
	}
	if !acked {
		s.sendAck(m)
	}
	s.handlePayload(m.PayloadType, payload)
	if first && !s.ended {
		s.skipHandshake()
	}
	return true
}

// readyFor reports whether a data message can be handled now: not while a
// handshake is in progress, because the agent sends data only after
// HandshakeComplete.
func (s *Session) readyFor(m *Message) bool {
	switch s.phase {
	case phaseOpen, phaseFirstMessage:
		return true
	}
	s.drops.note(s.log, "data before handshake complete", "seq", m.SequenceNumber)
	return false
}

// decryptPayload opens the payload types the agent encrypts: Output,
// StdErr and ExitCode.
func (s *Session) decryptPayload(m *Message) ([]byte, error) {
	if s.enc == nil {
		return m.Payload, nil
	}
	switch m.PayloadType {
	case PayloadOutput, PayloadStdErr, PayloadExitCode:
	default:
		return m.Payload, nil
	}
	plain, err := s.enc.Decrypt(m.Payload)
	if err != nil {
		return nil, fmt.Errorf("message seq %d: %w", m.SequenceNumber, err)
	}
	return plain, nil
}

// handlePayload passes a data payload to the caller.
func (s *Session) handlePayload(t PayloadType, payload []byte) {
	switch t {
	case PayloadOutput:
		if s.cfg.OnOutput != nil {
			s.cfg.OnOutput(payload)
		}
	case PayloadStdErr:
		if s.cfg.OnStderr != nil {
			s.cfg.OnStderr(payload)
		}
	case PayloadExitCode:
		s.recordExitCode(payload)
	case PayloadFlag:
		s.log.Info("flag from agent", "flag", flagValue(payload))
	default:
		s.drops.note(s.log, "unexpected payload type", "payload_type", int(t))
	}
}

// parseExitCode parses the ExitCode payload "EXIT_CODE: <n>", which may end
// in white space.
func parseExitCode(payload []byte) (int, bool) {
	text, ok := bytes.CutPrefix(payload, []byte("EXIT_CODE: "))
	text = bytes.TrimRight(text, " \t\r\n\f")
	if !ok || len(text) == 0 || text[0] == '+' {
		return 0, false
	}
	code, err := strconv.Atoi(string(text))
	return code, err == nil
}

func (s *Session) recordExitCode(payload []byte) {
	code, ok := parseExitCode(payload)
	if !ok {
		s.drops.note(s.log, "invalid exit code payload", "length", len(payload))
		return
	}
	s.exitCode = &code
	s.log.Info("exit code received", "exit_code", code)
}

func flagValue(payload []byte) int64 {
	if len(payload) != 4 {
		return -1
	}
	return int64(payload[0])<<24 | int64(payload[1])<<16 | int64(payload[2])<<8 | int64(payload[3])
}

// sendAck acknowledges m at once. Acks are never buffered, because a lost
// ack makes the agent retransmit the message, which is acked again.
func (s *Session) sendAck(m *Message) {
	if s.conn == nil {
		return
	}
	var buf [256]byte
	payload := appendAckContent(buf[:0], m)
	ack := Message{
		MessageType:    TypeAcknowledge,
		SchemaVersion:  1,
		CreatedDate:    s.nowMillis(),
		SequenceNumber: 0,
		Flags:          FlagAck,
		MessageID:      NewUUID(),
		PayloadType:    PayloadNone,
		Payload:        payload,
	}
	frame, err := ack.Marshal()
	if err != nil {
		s.drops.note(s.log, "ack not built", "error", err)
		return
	}
	if !s.conn.send(FrameBinary, frame) {
		s.drops.note(s.log, "ack not sent: write queue full", "seq", m.SequenceNumber)
	}
}

// appendAckContent appends the JSON of the AcknowledgeContent for m to b,
// with the bytes and key order that encoding/json writes for it.
func appendAckContent(b []byte, m *Message) []byte {
	b = append(b, `{"AcknowledgedMessageType":`...)
	b = appendJSONString(b, m.MessageType)
	b = append(b, `,"AcknowledgedMessageId":"`...)
	b = m.MessageID.appendString(b)
	b = append(b, `","AcknowledgedMessageSequenceNumber":`...)
	b = strconv.AppendInt(b, m.SequenceNumber, 10)
	return append(b, `,"IsSequentialMessage":true}`...)
}

// appendJSONString appends s quoted as encoding/json quotes it. Printable
// ASCII without the characters that encoding/json escapes is copied as it
// is, and any other string goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			quoted, _ := json.Marshal(s) // a string always encodes
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// handleAck removes the acknowledged message from the outgoing buffer and
// updates the round-trip estimate.
func (s *Session) handleAck(m *Message) {
	var ack AcknowledgeContent
	if err := json.Unmarshal(m.Payload, &ack); err != nil {
		s.drops.note(s.log, "invalid ack payload", "error", jsonError(err))
		return
	}
	seq := ack.AcknowledgedMessageSequenceNumber
	head := s.out.head()
	e := s.out.remove(seq)
	if e == nil {
		return
	}
	if e.sent {
		s.rto.sample(s.clock.Now().Sub(e.lastSent))
	}
	if head == e {
		s.headWait = 0
	}
	if e.seq == s.size.inFlight {
		s.size.inFlight = -1
	}
	s.flushSize()
}

func (s *Session) nowMillis() uint64 {
	return uint64(s.clock.Now().UnixNano() / int64(time.Millisecond))
}
