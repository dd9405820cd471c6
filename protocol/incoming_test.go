package protocol

import (
	"encoding/json"
	"testing"
)

func TestAckInOrder(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	m := a.send(PayloadOutput, []byte("one"))
	ack := a.nextAck()
	want := AcknowledgeContent{
		AcknowledgedMessageType:           TypeOutputStreamData,
		AcknowledgedMessageId:             m.MessageID.String(),
		AcknowledgedMessageSequenceNumber: m.SequenceNumber,
		IsSequentialMessage:               true,
	}
	if ack != want {
		t.Errorf("ack = %+v, want %+v", ack, want)
	}
	if got := string(h.rec.waitOutput(t)); got != "one" {
		t.Errorf("output %q", got)
	}
}

func TestAckOutOfOrderThenDrain(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	base := a.seq
	a.sendAt(base+2, PayloadOutput, []byte("c"))
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != base+2 {
		t.Fatalf("ack seq %d, want %d", ack.AcknowledgedMessageSequenceNumber, base+2)
	}
	a.sendAt(base+1, PayloadOutput, []byte("b"))
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != base+1 {
		t.Fatalf("ack seq %d, want %d", ack.AcknowledgedMessageSequenceNumber, base+1)
	}
	a.expectNothing()
	if got := h.rec.output(); got != "" {
		t.Fatalf("output %q before the gap is filled", got)
	}
	a.sendAt(base, PayloadOutput, []byte("a"))
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != base {
		t.Fatalf("ack seq %d, want %d", ack.AcknowledgedMessageSequenceNumber, base)
	}
	a.expectNothing()
	if got := h.rec.output(); got != "abc" {
		t.Errorf("output %q, want %q", got, "abc")
	}
}

func TestAckResentForDuplicate(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	m := a.send(PayloadOutput, []byte("x"))
	a.nextAck()
	a.sendMessage(m)
	if ack := a.nextAck(); ack.AcknowledgedMessageId != m.MessageID.String() {
		t.Errorf("duplicate ack id %s, want %s", ack.AcknowledgedMessageId, m.MessageID)
	}
	a.expectNothing()
	if got := h.rec.output(); got != "x" {
		t.Errorf("output %q, want the duplicate dropped", got)
	}
}

func TestIncomingBufferFullNotAcked(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	base := a.seq
	for i := int64(1); i <= IncomingCapacity; i++ {
		a.sendAt(base+i, PayloadOutput, []byte("x"))
		a.nextAck()
	}
	a.sendAt(base+IncomingCapacity+1, PayloadOutput, []byte("x"))
	a.expectNothing()
}

func TestIncomingTooFarAheadNotAcked(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	a.sendAt(a.seq+IncomingCapacity+1, PayloadOutput, []byte("x"))
	a.expectNothing()
	a.sendAt(a.seq+1<<40, PayloadOutput, []byte("x"))
	a.expectNothing()
}

func TestIncomingBytesBounded(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	big := make([]byte, IncomingMaxBytes/4)
	for i := int64(1); i <= 4; i++ {
		a.sendAt(a.seq+i, PayloadOutput, big)
		a.nextAck()
	}
	a.sendAt(a.seq+5, PayloadOutput, []byte("x"))
	a.expectNothing()
}

func TestDigestMismatchNotAcked(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	m := &Message{MessageType: TypeOutputStreamData, SchemaVersion: 1,
		CreatedDate: 1700000000000, SequenceNumber: a.seq, MessageID: NewUUID(),
		PayloadType: PayloadOutput, Payload: []byte("good")}
	frame, _ := m.Marshal()
	bad := append([]byte(nil), frame...)
	bad[len(bad)-1] = 'X'
	a.sendRaw(bad)
	a.expectNothing()
	if got := h.rec.output(); got != "" {
		t.Fatalf("output %q from a corrupt message", got)
	}
	a.sendRaw(frame)
	if ack := a.nextAck(); ack.AcknowledgedMessageSequenceNumber != m.SequenceNumber {
		t.Errorf("ack seq %d", ack.AcknowledgedMessageSequenceNumber)
	}
	if got := string(h.rec.waitOutput(t)); got != "good" {
		t.Errorf("output %q", got)
	}
}

func TestInvalidFramesDropped(t *testing.T) {
	h := newHarness(t, nil)
	s, a := h.openPlain(SessionTypeStandardStream)
	frames := map[string][]byte{
		"short": []byte("not a frame"),
		"unknown type": mustMarshal(t, &Message{MessageType: "agent_job",
			CreatedDate: 1, MessageID: NewUUID(), Payload: []byte("{}")}),
		"zero date": mustMarshal(t, &Message{MessageType: TypeOutputStreamData,
			SequenceNumber: a.seq, MessageID: NewUUID(), PayloadType: PayloadOutput,
			Payload: []byte("x")}),
		"bad ack json": mustMarshal(t, &Message{MessageType: TypeAcknowledge,
			CreatedDate: 1, MessageID: NewUUID(), Payload: []byte("{")}),
	}
	for name, frame := range frames {
		a.sendRaw(frame)
		a.expectNothing()
		select {
		case <-s.Done():
			t.Fatalf("%s frame ended the session", name)
		default:
		}
	}
}

func mustMarshal(t *testing.T, m *Message) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestControlMessagesNotAcked(t *testing.T) {
	h := newHarness(t, nil)
	_, a := h.openPlain(SessionTypeStandardStream)
	for _, typ := range []string{TypeStartPublication, TypePausePublication, TypeStartPublication} {
		a.sendControl(typ, nil)
		a.expectNothing()
	}
	b, _ := json.Marshal(AcknowledgeContent{AcknowledgedMessageSequenceNumber: 99})
	a.sendMessage(&Message{MessageType: TypeAcknowledge, CreatedDate: 1, MessageID: NewUUID(),
		Flags: FlagAck, Payload: b})
	a.expectNothing()
}

func TestAckContentMatchesEncodingJSON(t *testing.T) {
	id := mustUUID(t, "dd01e56b-ff48-483e-a508-b5f073f31b16")
	tests := []struct {
		name        string
		messageType string
		seq         int64
	}{
		{"output", TypeOutputStreamData, 0},
		{"large sequence", TypeOutputStreamData, 1<<63 - 1},
		{"negative sequence", TypeOutputStreamData, -5},
		{"empty type", "", 7},
		{"quote and backslash", `a"b\c`, 1},
		{"html characters", "<a>&", 2},
		{"control character", "a\x01\tb", 3},
		{"non-ascii", "ausgabe_ü", 4},
		{"invalid utf-8", "bad\xff", 5},
		{"line separator", "a\u2028b", 6},
		{"delete", "a\x7fb", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{MessageType: tt.messageType, SequenceNumber: tt.seq, MessageID: id}
			want, err := json.Marshal(AcknowledgeContent{
				AcknowledgedMessageType:           m.MessageType,
				AcknowledgedMessageId:             m.MessageID.String(),
				AcknowledgedMessageSequenceNumber: m.SequenceNumber,
				IsSequentialMessage:               true,
			})
			if err != nil {
				t.Fatal(err)
			}
			got := appendAckContent(nil, m)
			if string(got) != string(want) {
				t.Errorf("appendAckContent = %s, want %s", got, want)
			}
		})
	}
}
