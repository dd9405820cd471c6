//go:build !js

package emulator

import (
	"testing"
	"time"
)

func TestRTTEstimator(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		samples []time.Duration
		want    rttEstimator
	}{
		{"initial", nil, rttEstimator{srtt: 100 * ms, rttvar: 0, rto: 200 * ms}},
		// rttvar = 3/4*0 + 1/4*|100-20| = 20; srtt = 7/8*100 + 1/8*20 = 90;
		// rto = 90 + max(10, 80) = 170.
		{"one sample", []time.Duration{20 * ms},
			rttEstimator{srtt: 90 * ms, rttvar: 20 * ms, rto: 170 * ms}},
		{"rto capped at one second", []time.Duration{5 * time.Second},
			rttEstimator{srtt: 712500 * time.Microsecond, rttvar: 1225 * ms, rto: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRTTEstimator()
			for _, s := range tt.samples {
				e.update(s)
			}
			if e != tt.want {
				t.Errorf("estimator = %+v, want %+v", e, tt.want)
			}
		})
	}
}

func TestRTTEstimatorFloorIsGranularity(t *testing.T) {
	e := newRTTEstimator()
	for range 200 {
		e.update(time.Millisecond)
	}
	if e.rto < e.srtt+clockGranularity {
		t.Errorf("rto %v is below srtt %v plus the clock granularity", e.rto, e.srtt)
	}
}
