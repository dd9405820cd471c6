package protocol

import (
	"testing"
	"time"
)

func TestRTOEstimator(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name                    string
		samples                 []time.Duration
		wantSRTT, wantVar, want time.Duration
	}{
		{"initial", nil, 100 * ms, 0, 200 * ms},
		// RTTVAR = 3/4*0 + 1/4*|100-100| = 0; SRTT = 100; RTO = 100 + max(10, 0).
		{"steady", []time.Duration{100 * ms}, 100 * ms, 0, 110 * ms},
		// RTTVAR = 1/4*|100-20| = 20; SRTT = 7/8*100 + 1/8*20 = 90; RTO = 90 + 80.
		{"fast ack", []time.Duration{20 * ms}, 90 * ms, 20 * ms, 170 * ms},
		// RTTVAR = 1/4*|100-900| = 200; SRTT = 87.5+112.5 = 200; RTO capped at 1 s.
		{"slow ack capped", []time.Duration{900 * ms}, 200 * ms, 200 * ms, time.Second},
		// Second sample uses the old SRTT (90): RTTVAR = 15 + 1/4*|90-20| = 32.5;
		// SRTT = 78.75 + 2.5 = 81.25; RTO = 81.25 + 130.
		{"two samples", []time.Duration{20 * ms, 20 * ms}, 81250 * time.Microsecond,
			32500 * time.Microsecond, 211250 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRTOEstimator()
			for _, s := range tt.samples {
				r.sample(s)
			}
			if r.srtt != tt.wantSRTT {
				t.Errorf("SRTT = %s, want %s", r.srtt, tt.wantSRTT)
			}
			if r.rttvar != tt.wantVar {
				t.Errorf("RTTVAR = %s, want %s", r.rttvar, tt.wantVar)
			}
			if r.rto != tt.want {
				t.Errorf("RTO = %s, want %s", r.rto, tt.want)
			}
		})
	}
}

func TestOutgoingBufferRemove(t *testing.T) {
	var b outgoingBuffer
	for i := range 5 {
		b.push(&outgoingEntry{seq: int64(i)})
	}
	tests := []struct {
		seq      int64
		found    bool
		wantHead int64
	}{
		{2, true, 0},
		{2, false, 0},
		{0, true, 1},
		{9, false, 1},
		{1, true, 3},
	}
	for _, tt := range tests {
		if got := b.remove(tt.seq); (got != nil) != tt.found {
			t.Errorf("remove(%d) found = %v, want %v", tt.seq, got != nil, tt.found)
		}
		if h := b.head(); h == nil || h.seq != tt.wantHead {
			t.Errorf("after remove(%d) head = %v, want seq %d", tt.seq, h, tt.wantHead)
		}
	}
	if b.room() != OutgoingCapacity-2 {
		t.Errorf("room = %d, want %d", b.room(), OutgoingCapacity-2)
	}
}

func TestBackoffDelay(t *testing.T) {
	for n := 1; n <= 10; n++ {
		for range 20 {
			d := backoffDelay(n)
			lo := backoffBase << (n - 1)
			if lo > backoffMax*3/4 {
				lo = backoffMax * 3 / 4
			}
			if d < lo || d > backoffMax {
				t.Fatalf("backoffDelay(%d) = %s, want in [%s, %s]", n, d, lo, backoffMax)
			}
		}
	}
}
