package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// hexDump decodes the hex of a dump with offsets, as the protocol's
// worked examples print it.
func hexDump(t testing.TB, dump string) []byte {
	t.Helper()
	var digits strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(dump), "\n") {
		fields := strings.Fields(line)
		for _, f := range fields[1:] {
			digits.WriteString(f)
		}
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUUID(t testing.TB, s string) UUID {
	t.Helper()
	u, err := ParseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

const sizeVector = `
0000  00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d
0010  5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20
0020  20 20 20 20 00 00 00 01 00 00 01 8b cf e5 68 00
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
0040  a5 08 b5 f0 73 f3 1b 16 dd 01 e5 6b ff 48 48 3e
0050  ed f7 35 9c 89 07 7b 60 8a 6b 3e 8b 19 e6 3b bf
0060  c7 aa 72 49 89 a0 5e a3 71 a9 96 6a 6e 9d b7 cc
0070  00 00 00 03 00 00 00 16 7b 22 63 6f 6c 73 22 3a
0080  31 32 30 2c 22 72 6f 77 73 22 3a 34 30 7d`

const ackVectorHeader = `
0000  00 00 00 74 61 63 6b 6e 6f 77 6c 65 64 67 65 20
0010  20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20
0020  20 20 20 20 00 00 00 01 00 00 01 8b cf e5 68 7b
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03
0040  94 4b e0 7f c1 f9 0a e7 7c 9e 66 79 74 25 40 de
0050  bf 5f 25 ec d1 ef 46 8e 38 85 ce fe 61 b9 4e ca
0060  72 6a 96 39 d4 f5 2a 71 3e 39 c4 08 71 c7 d1 8d
0070  00 00 00 00 00 00 00 b0`

const ackVectorPayload = `{"AcknowledgedMessageType":"output_stream_data",` +
	`"AcknowledgedMessageId":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
	`"AcknowledgedMessageSequenceNumber":5,"IsSequentialMessage":true}`

const flagVector = `
0000  00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d
0010  5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20
0020  20 20 20 20 00 00 00 01 00 00 01 8b cf e5 69 c8
0030  00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00
0040  82 eb 8c 7f ad a8 47 da 16 fd 27 06 8b af 43 3b
0050  43 3e bf 5b c0 3d ff a3 85 36 67 32 07 a2 12 81
0060  61 2c ef 5f aa 9b c7 a4 d5 b9 be 2f db 12 cf 1a
0070  00 00 00 0a 00 00 00 04 00 00 00 02`

// vectorMessages returns the worked example messages and their frames.
func vectorMessages(t testing.TB) []struct {
	name  string
	msg   Message
	frame []byte
} {
	ackFrame := append(hexDump(t, ackVectorHeader), ackVectorPayload...)
	return []struct {
		name  string
		msg   Message
		frame []byte
	}{
		{"size", Message{
			MessageType: TypeInputStreamData, SchemaVersion: 1, CreatedDate: 1700000000000,
			MessageID:   mustUUID(t, "dd01e56b-ff48-483e-a508-b5f073f31b16"),
			PayloadType: PayloadSize, Payload: []byte(`{"cols":120,"rows":40}`),
		}, hexDump(t, sizeVector)},
		{"acknowledge", Message{
			MessageType: TypeAcknowledge, SchemaVersion: 1, CreatedDate: 1700000000123,
			Flags: FlagAck, MessageID: mustUUID(t, "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
			Payload: []byte(ackVectorPayload),
		}, ackFrame},
		{"terminate flag", Message{
			MessageType: TypeInputStreamData, SchemaVersion: 1, CreatedDate: 1700000000456,
			SequenceNumber: 7, MessageID: mustUUID(t, "16fd2706-8baf-433b-82eb-8c7fada847da"),
			PayloadType: PayloadFlag, Payload: []byte{0, 0, 0, 2},
		}, hexDump(t, flagVector)},
	}
}

func TestMarshalVectors(t *testing.T) {
	for _, v := range vectorMessages(t) {
		t.Run(v.name, func(t *testing.T) {
			got, err := v.msg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, v.frame) {
				t.Errorf("Marshal =\n%x\nwant\n%x", got, v.frame)
			}
		})
	}
}

func TestUnmarshalVectors(t *testing.T) {
	for _, v := range vectorMessages(t) {
		t.Run(v.name, func(t *testing.T) {
			m, err := Unmarshal(v.frame)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			want := v.msg
			want.PayloadDigest = sha256.Sum256(want.Payload)
			if m.MessageType != want.MessageType || m.SchemaVersion != want.SchemaVersion ||
				m.CreatedDate != want.CreatedDate || m.SequenceNumber != want.SequenceNumber ||
				m.Flags != want.Flags || m.MessageID != want.MessageID ||
				m.PayloadDigest != want.PayloadDigest || m.PayloadType != want.PayloadType ||
				!bytes.Equal(m.Payload, want.Payload) {
				t.Errorf("Unmarshal = %+v\nwant %+v", m, want)
			}
		})
	}
}

func TestAckVectorLength(t *testing.T) {
	frame := vectorMessages(t)[1].frame
	if len(frame) != 296 {
		t.Errorf("ack frame is %d bytes, want 296", len(frame))
	}
}

func TestValidateDigestMismatch(t *testing.T) {
	frame := hexDump(t, sizeVector)
	frame[len(frame)-2] ^= 1
	m, err := Unmarshal(frame)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err == nil {
		t.Fatal("Validate accepted a payload that does not match its digest")
	}
	for _, typ := range []string{TypeStartPublication, TypePausePublication} {
		m.MessageType = typ
		if err := m.Validate(); err != nil {
			t.Errorf("Validate(%s) = %v, want the type exempt", typ, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, v := range vectorMessages(f) {
		f.Add(v.frame)
	}
	f.Add([]byte{})
	f.Add(make([]byte, HeaderSize))
	f.Add(hexDump(f, sizeVector)[:HeaderSize+3])
	nulPadded := hexDump(f, flagVector)
	copy(nulPadded[4+len(TypeInputStreamData):36], make([]byte, 36-4-len(TypeInputStreamData)))
	f.Add(nulPadded)

	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := Unmarshal(frame)
		if err != nil {
			return
		}
		m.Validate()
		canonicalType := bytes.Equal(frame[4:36], padType(m.MessageType))
		if !canonicalType || sha256.Sum256(m.Payload) != m.PayloadDigest {
			return
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a decoded frame: %v", err)
		}
		if !bytes.Equal(again, frame) {
			t.Fatalf("round trip changed the frame:\n%x\n%x", frame, again)
		}
	})
}

func padType(s string) []byte {
	b := bytes.Repeat([]byte{' '}, 32)
	copy(b, s)
	return b
}

func TestUnmarshalCopiesPayload(t *testing.T) {
	m := Message{MessageType: TypeOutputStreamData, Payload: []byte("abc")}
	frame, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(frame)
	if err != nil {
		t.Fatal(err)
	}
	frame[HeaderSize] = 'x'
	if string(got.Payload) != "abc" {
		t.Errorf("payload = %q after the frame changed, want %q", got.Payload, "abc")
	}
}
