package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Field offsets of the binary message. Every integer is big-endian.
const (
	offsetHeaderLength   = 0
	offsetMessageType    = 4
	offsetSchemaVersion  = 36
	offsetCreatedDate    = 40
	offsetSequenceNumber = 48
	offsetFlags          = 56
	offsetMessageID      = 64
	offsetPayloadDigest  = 80
	offsetPayloadType    = 112
	offsetPayloadLength  = 116

	// HeaderLength is the value written in the HeaderLength field: the
	// offset of PayloadLength, which the field does not count.
	HeaderLength = 116

	// HeaderSize is the size of a message without its payload.
	HeaderSize = 120

	messageTypeSize = 32
)

// Message types carried in the 32-byte MessageType field.
const (
	TypeInputStreamData  = "input_stream_data"
	TypeOutputStreamData = "output_stream_data"
	TypeAcknowledge      = "acknowledge"
	TypeChannelClosed    = "channel_closed"
	TypeStartPublication = "start_publication"
	TypePausePublication = "pause_publication"
)

// Flags values. Neither official peer reads them, but they are sent as the
// agent sends them.
const (
	FlagData uint64 = 0
	FlagSyn  uint64 = 1
	FlagAck  uint64 = 3
)

// ErrDigestMismatch is returned by Validate when the PayloadDigest does not
// match the SHA-256 of the payload.
var ErrDigestMismatch = errors.New("payload digest mismatch")

// Message is one data-channel message, in either direction.
type Message struct {
	MessageType    string
	SchemaVersion  uint32
	CreatedDate    uint64 // milliseconds since the Unix epoch
	SequenceNumber int64
	Flags          uint64
	MessageID      UUID
	PayloadDigest  [32]byte // as read from the wire; Marshal recomputes it
	PayloadType    PayloadType
	Payload        []byte
}

// Marshal encodes m with a digest computed over m.Payload. It fails when
// the message type does not fit in 32 bytes.
func (m *Message) Marshal() ([]byte, error) {
	if len(m.MessageType) > messageTypeSize {
		return nil, fmt.Errorf("marshal message: type %q longer than %d bytes",
			m.MessageType, messageTypeSize)
	}
	b := make([]byte, HeaderSize+len(m.Payload))
	binary.BigEndian.PutUint32(b[offsetHeaderLength:], HeaderLength)

	typeField := b[offsetMessageType : offsetMessageType+messageTypeSize]
	n := copy(typeField, m.MessageType)
	for i := n; i < messageTypeSize; i++ {
		typeField[i] = ' '
	}

	binary.BigEndian.PutUint32(b[offsetSchemaVersion:], m.SchemaVersion)
	binary.BigEndian.PutUint64(b[offsetCreatedDate:], m.CreatedDate)
	binary.BigEndian.PutUint64(b[offsetSequenceNumber:], uint64(m.SequenceNumber))
	binary.BigEndian.PutUint64(b[offsetFlags:], m.Flags)
	copy(b[offsetMessageID:offsetMessageID+8], m.MessageID[8:16])
	copy(b[offsetMessageID+8:offsetMessageID+16], m.MessageID[0:8])

	digest := sha256.Sum256(m.Payload)
	copy(b[offsetPayloadDigest:], digest[:])
	binary.BigEndian.PutUint32(b[offsetPayloadType:], uint32(m.PayloadType))
	binary.BigEndian.PutUint32(b[offsetPayloadLength:], uint32(len(m.Payload)))
	copy(b[HeaderSize:], m.Payload)
	return b, nil
}

// Unmarshal decodes a frame. The payload is everything after PayloadLength,
// as both official peers read it, and it is copied, so the caller may reuse
// frame. Unmarshal checks every offset against the frame's length and
// returns an error instead of panicking; it does not check the digest (see
// Validate).
func Unmarshal(frame []byte) (*Message, error) {
	m, err := unmarshalOwned(frame)
	if err != nil {
		return nil, err
	}
	m.Payload = append([]byte(nil), m.Payload...)
	return m, nil
}

// unmarshalOwned is Unmarshal for a frame that nothing else uses: the
// message's payload shares the frame's bytes.
func unmarshalOwned(frame []byte) (*Message, error) {
	if len(frame) < HeaderSize {
		return nil, fmt.Errorf("unmarshal message: frame of %d bytes is shorter than the %d-byte header",
			len(frame), HeaderSize)
	}
	headerLength := binary.BigEndian.Uint32(frame[offsetHeaderLength:])
	if headerLength != HeaderLength {
		return nil, fmt.Errorf("unmarshal message: header length %d, expected %d",
			headerLength, HeaderLength)
	}
	payloadLength := binary.BigEndian.Uint32(frame[offsetPayloadLength:])
	if uint64(payloadLength) != uint64(len(frame)-HeaderSize) {
		return nil, fmt.Errorf("unmarshal message: payload length %d, but %d bytes follow the header",
			payloadLength, len(frame)-HeaderSize)
	}

	m := &Message{
		MessageType:    trimMessageType(frame[offsetMessageType : offsetMessageType+messageTypeSize]),
		SchemaVersion:  binary.BigEndian.Uint32(frame[offsetSchemaVersion:]),
		CreatedDate:    binary.BigEndian.Uint64(frame[offsetCreatedDate:]),
		SequenceNumber: int64(binary.BigEndian.Uint64(frame[offsetSequenceNumber:])),
		Flags:          binary.BigEndian.Uint64(frame[offsetFlags:]),
		PayloadType:    PayloadType(binary.BigEndian.Uint32(frame[offsetPayloadType:])),
		Payload:        frame[HeaderSize:len(frame):len(frame)],
	}
	copy(m.MessageID[8:16], frame[offsetMessageID:offsetMessageID+8])
	copy(m.MessageID[0:8], frame[offsetMessageID+8:offsetMessageID+16])
	copy(m.PayloadDigest[:], frame[offsetPayloadDigest:offsetPayloadDigest+32])
	return m, nil
}

// trimMessageType strips NUL bytes at both ends, then spaces, as the
// official readers do.
func trimMessageType(field []byte) string {
	return string(bytes.TrimSpace(bytes.Trim(field, "\x00")))
}

// Validate applies the official client's checks to a decoded message: a
// non-empty type, a non-zero CreatedDate and, for a non-empty payload, a
// matching digest. start_publication and pause_publication are exempt, as
// the official client exempts them.
func (m *Message) Validate() error {
	if m.MessageType == TypeStartPublication || m.MessageType == TypePausePublication {
		return nil
	}
	if m.MessageType == "" {
		return errors.New("validate message: empty message type")
	}
	if m.CreatedDate == 0 {
		return fmt.Errorf("validate message %s: created date is zero", m.MessageID)
	}
	if len(m.Payload) > 0 && sha256.Sum256(m.Payload) != m.PayloadDigest {
		return fmt.Errorf("validate message %s seq %d: %w",
			m.MessageID, m.SequenceNumber, ErrDigestMismatch)
	}
	return nil
}
