package protocol

import (
	"encoding/json"
	"fmt"
)

const (
	// MaxPayloadSize is the largest input payload the client sends, as
	// the official client does.
	MaxPayloadSize = 1024

	maxTermSize = 65535
)

// sizeState coalesces terminal size requests: at most one Size message is
// unacknowledged, and the latest request waits for its ack.
type sizeState struct {
	want     SizeData
	pending  bool
	last     SizeData
	inFlight int64 // sequence number of the unacked Size message, or -1
}

// queueStream builds a sequenced input_stream_data message, adds it to the
// outgoing buffer and sends it when the channel is active. Output is
// encrypted in a KMS session; other payload types travel in the clear.
func (s *Session) queueStream(t PayloadType, payload []byte) error {
	if s.out.room() <= 0 {
		return ErrBufferFull
	}
	if t == PayloadOutput && s.enc != nil {
		sealed, err := s.enc.Encrypt(payload)
		if err != nil {
			return err
		}
		payload = sealed
	}
	m := Message{
		MessageType:    TypeInputStreamData,
		SchemaVersion:  1,
		CreatedDate:    s.nowMillis(),
		SequenceNumber: s.out.nextSeq,
		Flags:          FlagData,
		MessageID:      NewUUID(),
		PayloadType:    t,
		Payload:        payload,
	}
	frame, err := m.Marshal()
	if err != nil {
		return err
	}
	if s.out.head() == nil {
		s.headWait = 0
	}
	e := &outgoingEntry{seq: m.SequenceNumber, payloadType: t, frame: frame}
	s.out.push(e)
	if s.active() {
		s.transmit(e)
	}
	return nil
}

// transmit sends an entry for the first time.
func (s *Session) transmit(e *outgoingEntry) bool {
	if !s.conn.send(FrameBinary, e.frame) {
		return false
	}
	e.sent = true
	e.lastSent = s.clock.Now()
	return true
}

// flushUnsent sends, in order, the entries queued while the channel was
// paused or reconnecting or the write queue was full.
func (s *Session) flushUnsent() {
	for _, e := range s.out.entries {
		if !e.sent && !s.transmit(e) {
			return
		}
	}
}

// queueInput splits p into Output payloads and queues them, all or none.
func (s *Session) queueInput(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	chunks := splitPayload(p)
	if len(chunks) > OutgoingCapacity {
		return fmt.Errorf("write %d bytes: input exceeds the outgoing buffer "+
			"of %d payloads of %d bytes; split it", len(p), OutgoingCapacity, MaxPayloadSize)
	}
	if s.phase != phaseOpen {
		// Unreachable through the API: Open returns the session only
		// once it is open, and the agent drops input sent earlier.
		return fmt.Errorf("write %d bytes: session not open", len(p))
	}
	if len(chunks) > s.out.room() {
		return ErrBufferFull
	}
	for _, c := range chunks {
		if err := s.queueStream(PayloadOutput, c); err != nil {
			return err
		}
	}
	return nil
}

func splitPayload(p []byte) [][]byte {
	chunks := make([][]byte, 0, (len(p)+MaxPayloadSize-1)/MaxPayloadSize)
	for len(p) > 0 {
		n := min(len(p), MaxPayloadSize)
		chunks = append(chunks, p[:n:n])
		p = p[n:]
	}
	return chunks
}

// requestSize records the latest requested terminal size and sends it when
// no other Size message is unacknowledged.
func (s *Session) requestSize(cols, rows int) {
	s.size.want = SizeData{Cols: uint32(cols), Rows: uint32(rows)}
	s.size.pending = true
	s.flushSize()
}

func (s *Session) flushSize() {
	if s.phase != phaseOpen || !s.size.pending || s.size.inFlight >= 0 {
		return
	}
	if s.size.want == s.size.last {
		s.size.pending = false
		return
	}
	payload, err := json.Marshal(s.size.want)
	if err != nil {
		return
	}
	seq := s.out.nextSeq
	if err := s.queueStream(PayloadSize, payload); err != nil {
		s.drops.note(s.log, "size not sent", "error", err)
		return
	}
	s.size.pending = false
	s.size.last = s.size.want
	s.size.inFlight = seq
}
