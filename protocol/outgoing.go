package protocol

import (
	"errors"
	"sort"
	"time"
)

// Retransmission constants, the same in the official client and agent.
const (
	// ResendInterval is how often the scheduler looks at the oldest
	// unacknowledged message.
	ResendInterval = 100 * time.Millisecond

	initialRTT      = 100 * time.Millisecond
	initialRTO      = 200 * time.Millisecond
	maxRTO          = time.Second
	rtoGranularity  = 10 * time.Millisecond
	rttAlphaDivisor = 8 // SRTT gain 1/8
	rttBetaDivisor  = 4 // RTTVAR gain 1/4

	// OutgoingCapacity is the maximum number of unacknowledged messages
	// the client holds, counting those not yet sent.
	OutgoingCapacity = 10000

	// GiveUpTimeout ends a session whose oldest unacknowledged message
	// gets no acknowledgement for this long while the channel is active.
	GiveUpTimeout = 5 * time.Minute
)

// ErrBufferFull is returned by Write when the outgoing buffer has no room
// for the input. The caller may retry after the agent has acknowledged
// earlier messages.
var ErrBufferFull = errors.New("outgoing buffer full")

// ErrAckTimeout is the cause of a session that ended because the agent did
// not acknowledge a message within GiveUpTimeout.
var ErrAckTimeout = errors.New("no acknowledgement from the agent")

// rtoEstimator computes the retransmission timeout from acknowledgement
// round trips: RTTVAR from the old SRTT first, then SRTT, then
// RTO = SRTT + max(G, 4*RTTVAR), capped at one second.
type rtoEstimator struct {
	srtt   time.Duration
	rttvar time.Duration
	rto    time.Duration
}

func newRTOEstimator() rtoEstimator {
	return rtoEstimator{srtt: initialRTT, rto: initialRTO}
}

func (r *rtoEstimator) sample(rtt time.Duration) {
	if rtt < 0 {
		rtt = 0
	}
	diff := r.srtt - rtt
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = r.rttvar - r.rttvar/rttBetaDivisor + diff/rttBetaDivisor
	r.srtt = r.srtt - r.srtt/rttAlphaDivisor + rtt/rttAlphaDivisor
	r.rto = min(r.srtt+max(rtoGranularity, 4*r.rttvar), maxRTO)
}

// outgoingEntry is one sequenced message kept until the agent acks it.
type outgoingEntry struct {
	seq         int64
	payloadType PayloadType
	frame       []byte // marshalled once, so retransmissions are identical
	sent        bool
	lastSent    time.Time
	resends     int
}

// outgoingBuffer holds unacknowledged messages in sequence order.
type outgoingBuffer struct {
	entries []*outgoingEntry
	nextSeq int64
}

func (b *outgoingBuffer) room() int { return OutgoingCapacity - len(b.entries) }

func (b *outgoingBuffer) head() *outgoingEntry {
	if len(b.entries) == 0 {
		return nil
	}
	return b.entries[0]
}

// push appends an entry that carries the next sequence number.
func (b *outgoingBuffer) push(e *outgoingEntry) {
	b.nextSeq = e.seq + 1
	b.entries = append(b.entries, e)
}

// remove deletes and returns the entry with sequence number seq, or nil.
func (b *outgoingBuffer) remove(seq int64) *outgoingEntry {
	i := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].seq >= seq })
	if i == len(b.entries) || b.entries[i].seq != seq {
		return nil
	}
	e := b.entries[i]
	if i == 0 {
		b.entries[0] = nil
		b.entries = b.entries[1:]
		return e
	}
	b.entries = append(b.entries[:i], b.entries[i+1:]...)
	return e
}
