//go:build !js

package emulator

import "time"

// Retransmission constants, the same on the agent and the client.
const (
	initialRTT        = 100 * time.Millisecond
	initialRTO        = 200 * time.Millisecond
	clockGranularity  = 10 * time.Millisecond
	maxRTO            = time.Second
	resendInterval    = 100 * time.Millisecond
	closeDrainTimeout = 2 * time.Second
)

// rttEstimator keeps the smoothed round-trip time, its variation and the
// retransmission timeout, updated from each acknowledgement with
// alpha = 1/8 and beta = 1/4 as in RFC 6298, capped at one second.
type rttEstimator struct {
	srtt, rttvar, rto time.Duration
}

func newRTTEstimator() rttEstimator {
	return rttEstimator{srtt: initialRTT, rto: initialRTO}
}

// update folds one round-trip sample into the estimate. The variation uses
// the smoothed time from before this sample.
func (e *rttEstimator) update(sample time.Duration) {
	diff := e.srtt - sample
	if diff < 0 {
		diff = -diff
	}
	e.rttvar = (3*e.rttvar + diff) / 4
	e.srtt = (7*e.srtt + sample) / 8
	e.rto = min(e.srtt+max(clockGranularity, 4*e.rttvar), maxRTO)
}
