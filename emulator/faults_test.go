//go:build !js

package emulator

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

func TestFaultNormalizeDefaults(t *testing.T) {
	tests := []struct {
		in   Fault
		want Fault
	}{
		{Fault{Kind: FaultReorder}, Fault{Kind: FaultReorder, Window: 8, Seed: 1}},
		{Fault{Kind: FaultDuplicate}, Fault{Kind: FaultDuplicate, Every: 5, Seed: 1}},
		{Fault{Kind: FaultDrop}, Fault{Kind: FaultDrop, Every: 7, Seed: 1}},
		{Fault{Kind: FaultCorruptDigest}, Fault{Kind: FaultCorruptDigest, Every: 9, Seed: 1}},
		{Fault{Kind: FaultPause}, Fault{Kind: FaultPause, After: 20, DurationMs: 500, Seed: 1}},
		{Fault{Kind: FaultCloseSocket}, Fault{Kind: FaultCloseSocket, After: 50, Seed: 1}},
		{Fault{Kind: FaultChannelClosed}, Fault{Kind: FaultChannelClosed, After: 10,
			Reason: defaultChannelClosedReason, Seed: 1}},
		{Fault{Kind: FaultStopAcking}, Fault{Kind: FaultStopAcking, After: 5, Seed: 1}},
		{Fault{Kind: FaultDropSocket}, Fault{Kind: FaultDropSocket, At: DropAtRandom,
			Count: 1, Every: 10, Seed: 1}},
		{Fault{Kind: FaultDropSocket, At: DropAtPaste, Count: 3, Seed: 9},
			Fault{Kind: FaultDropSocket, At: DropAtPaste, Count: 3, Every: 10, Seed: 9}},
		{Fault{Kind: FaultPeriodicClose}, Fault{Kind: FaultPeriodicClose, IntervalMs: 3000, Seed: 1}},
		{Fault{Kind: FaultWrongChallenge}, Fault{Kind: FaultWrongChallenge, DurationMs: 1000, Seed: 1}},
		{Fault{Kind: FaultRefuseResume}, Fault{Kind: FaultRefuseResume, Seed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.in.Kind, func(t *testing.T) {
			got, err := tt.in.normalize()
			if err != nil {
				t.Fatalf("normalize: %v", err)
			}
			if got != tt.want {
				t.Errorf("normalize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFaultNormalizeRejects(t *testing.T) {
	tests := []struct {
		name string
		in   Fault
		want string
	}{
		{"unknown kind", Fault{Kind: "explode"}, `unknown fault kind "explode"`},
		{"empty kind", Fault{}, `unknown fault kind ""`},
		{"negative every", Fault{Kind: FaultDrop, Every: -1}, "every is -1"},
		{"drop every one", Fault{Kind: FaultDrop, Every: 1}, "expected at least 2"},
		{"reorder window one", Fault{Kind: FaultReorder, Window: 1}, "expected at least 2"},
		{"unknown drop point", Fault{Kind: FaultDropSocket, At: "lunch"}, `at is "lunch"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.in.normalize()
			if err == nil {
				t.Fatalf("normalize accepted %+v", tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestSessionRequestRejectsBadFaultIndex(t *testing.T) {
	req := SessionRequest{Faults: []Fault{{Kind: FaultDrop}, {Kind: "nope"}}}
	_, err := req.normalize()
	if err == nil || !strings.Contains(err.Error(), "faults[1]") {
		t.Fatalf("normalize error = %v, want one naming faults[1]", err)
	}
}

func TestFaultStateDropDuplicateCorrupt(t *testing.T) {
	faults, err := normalizeFaults([]Fault{
		{Kind: FaultDrop, Every: 3},
		{Kind: FaultDuplicate, Every: 4},
		{Kind: FaultCorruptDigest, Every: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newFaultState(faults)
	frame := make([]byte, protocol.HeaderSize+1)
	var counts []int
	for i := 1; i <= 12; i++ {
		frames, _, _ := s.firstSend(frame, protocol.PayloadOutput)
		counts = append(counts, len(frames))
		if i == 5 || i == 10 {
			if len(frames) == 0 || bytes.Equal(frames[0], frame) {
				t.Errorf("message %d: digest not corrupted", i)
			}
		} else if len(frames) > 0 && !bytes.Equal(frames[0], frame) {
			t.Errorf("message %d: frame changed", i)
		}
	}
	want := []int{1, 1, 0, 2, 1, 0, 1, 2, 0, 1, 1, 0}
	for i := range want {
		if counts[i] != want[i] {
			t.Errorf("message %d sent %d times, want %d", i+1, counts[i], want[i])
		}
	}
}

func TestFaultStateReorderIsSeeded(t *testing.T) {
	order := func() []byte {
		faults, _ := normalizeFaults([]Fault{{Kind: FaultReorder, Window: 4, Seed: 7}})
		s := newFaultState(faults)
		var out []byte
		for i := byte(0); i < 8; i++ {
			frames, _, _ := s.firstSend([]byte{i}, protocol.PayloadOutput)
			for _, f := range frames {
				out = append(out, f[0])
			}
		}
		return out
	}
	first, second := order(), order()
	if len(first) != 8 {
		t.Fatalf("reorder released %d of 8 frames", len(first))
	}
	if !bytes.Equal(first, second) {
		t.Errorf("same seed gave orders %v and %v", first, second)
	}
	if bytes.Equal(first, []byte{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("reorder kept the original order")
	}
	for i, b := range first {
		if int(b)/4 != i/4 {
			t.Errorf("frame %d left its window of 4: position %d", b, i)
		}
	}
}

func TestFaultStateDropSocketCount(t *testing.T) {
	faults, _ := normalizeFaults([]Fault{{Kind: FaultDropSocket, At: DropAtHandshake, Count: 2}})
	s := newFaultState(faults)
	resp := &protocol.Message{PayloadType: protocol.PayloadHandshakeResponse}
	want := []inputVerdict{inputDrop, inputDrop, inputPass}
	for i, w := range want {
		if got := s.input(resp); got != w {
			t.Errorf("response %d: verdict %d, want %d", i+1, got, w)
		}
	}
}

func TestFaultStateStopAcking(t *testing.T) {
	faults, _ := normalizeFaults([]Fault{{Kind: FaultStopAcking, After: 2}})
	s := newFaultState(faults)
	m := &protocol.Message{PayloadType: protocol.PayloadOutput}
	for i := 0; i < 2; i++ {
		if got := s.input(m); got != inputPass {
			t.Fatalf("input %d: verdict %d, want pass", i+1, got)
		}
		s.accepted()
	}
	if got := s.input(m); got != inputIgnore {
		t.Errorf("input 3: verdict %d, want ignore", got)
	}
}
