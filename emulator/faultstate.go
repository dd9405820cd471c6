//go:build !js

package emulator

import (
	"math/rand"
	"sync"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// faultAction is a step a fault requests from the agent besides sending
// frames.
type faultAction struct {
	kind     string // FaultPause, FaultCloseSocket, FaultChannelClosed or FaultDropSocket
	duration time.Duration
	reason   string
}

// activeFault is a fault with its runtime state.
type activeFault struct {
	Fault
	rng       *rand.Rand
	fired     bool // a one-shot fault has fired
	remaining int  // drop-socket firings left
	seen      int  // messages counted by drop-socket at output or paste
}

// faultState applies a session's faults. It is safe for concurrent use.
type faultState struct {
	mu      sync.Mutex
	faults  []*activeFault
	sent    int      // first transmissions of agent stream messages
	inputs  int      // distinct client stream messages accepted
	pending [][]byte // frames held back by reorder
}

func newFaultState(faults []Fault) *faultState {
	s := &faultState{}
	for _, f := range faults {
		s.faults = append(s.faults, &activeFault{
			Fault:     f,
			rng:       rand.New(rand.NewSource(f.Seed)),
			remaining: f.Count,
		})
	}
	return s
}

// find returns the first fault of a kind, or nil.
func (s *faultState) find(kind string) *activeFault {
	for _, f := range s.faults {
		if f.Kind == kind {
			return f
		}
	}
	return nil
}

// has reports whether a fault of kind is configured.
func (s *faultState) has(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(kind) != nil
}

// get returns a copy of the first fault of kind and whether there is one.
func (s *faultState) get(kind string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.find(kind); f != nil {
		return f.Fault, true
	}
	return Fault{}, false
}

// firstSend applies the faults to the first transmission of a stream
// message. It returns the frames to write now, whether a reorder flush
// timer should start, and the actions to take after writing.
func (s *faultState) firstSend(frame []byte, payloadType protocol.PayloadType) (
	frames [][]byte, startFlush bool, actions []faultAction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	frames = s.transform(frame)
	if r := s.find(FaultReorder); r != nil {
		s.pending = append(s.pending, frames...)
		frames = nil
		if len(s.pending) >= r.Window {
			frames = s.takePending(r.rng)
		} else {
			startFlush = len(s.pending) == 1
		}
	}
	return frames, startFlush, s.afterActions(payloadType)
}

// transform applies drop, corrupt-digest and duplicate to one frame.
func (s *faultState) transform(frame []byte) [][]byte {
	if f := s.find(FaultDrop); f != nil && s.sent%f.Every == 0 {
		return nil
	}
	if f := s.find(FaultCorruptDigest); f != nil && s.sent%f.Every == 0 {
		bad := append([]byte(nil), frame...)
		bad[digestOffset] ^= 0xff
		frame = bad
	}
	if f := s.find(FaultDuplicate); f != nil && s.sent%f.Every == 0 {
		return [][]byte{frame, frame}
	}
	return [][]byte{frame}
}

// digestOffset is the offset of PayloadDigest in a message frame.
const digestOffset = 80

// takePending returns the held frames in a shuffled order and clears them.
func (s *faultState) takePending(rng *rand.Rand) [][]byte {
	out := s.pending
	s.pending = nil
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// flushReorder returns frames still held by reorder.
func (s *faultState) flushReorder() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.find(FaultReorder); r != nil && len(s.pending) > 0 {
		return s.takePending(r.rng)
	}
	return nil
}

// afterActions returns the one-shot and drop-socket actions due after the
// current first transmission.
func (s *faultState) afterActions(payloadType protocol.PayloadType) []faultAction {
	var actions []faultAction
	for _, f := range s.faults {
		switch f.Kind {
		case FaultPause, FaultCloseSocket, FaultChannelClosed:
			if !f.fired && s.sent >= f.After {
				f.fired = true
				actions = append(actions, faultAction{kind: f.Kind,
					duration: f.duration(), reason: f.Reason})
			}
		case FaultDropSocket:
			if s.dropOnSend(f, payloadType) {
				actions = append(actions, faultAction{kind: FaultDropSocket})
			}
		}
	}
	return actions
}

// dropOnSend decides whether a drop-socket fault fires after sending a
// message of payloadType.
func (s *faultState) dropOnSend(f *activeFault, payloadType protocol.PayloadType) bool {
	switch {
	case f.remaining <= 0:
		return false
	case f.At == DropAtOutput && payloadType == protocol.PayloadOutput:
		f.seen++
		return f.fire(f.seen%f.Every == 0)
	case f.At == DropAtRandom:
		return f.fire(f.rng.Intn(f.Every) == 0)
	}
	return false
}

// refundDrop gives one firing back to the drop-socket fault.
func (s *faultState) refundDrop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.find(FaultDropSocket); f != nil {
		f.remaining++
	}
}

// fire consumes one firing when ok is true.
func (f *activeFault) fire(ok bool) bool {
	if ok {
		f.remaining--
	}
	return ok
}

// inputVerdict is the faults' decision about an incoming client stream
// message.
type inputVerdict int

const (
	inputPass   inputVerdict = iota
	inputIgnore              // neither processed nor acknowledged
	inputDrop                // the socket is dropped before processing
)

// input applies stop-acking and drop-socket to a client stream message
// that is not a duplicate.
func (s *faultState) input(m *protocol.Message) inputVerdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.find(FaultStopAcking); f != nil && s.inputs >= f.After {
		return inputIgnore
	}
	for _, f := range s.faults {
		if f.Kind == FaultDropSocket && f.remaining > 0 && dropOnInput(f, m.PayloadType) {
			return inputDrop
		}
	}
	return inputPass
}

// accepted counts a client stream message that was acknowledged for the
// first time.
func (s *faultState) accepted() {
	s.mu.Lock()
	s.inputs++
	s.mu.Unlock()
}

// dropOnInput decides whether a drop-socket fault fires when a client
// message of payloadType arrives.
func dropOnInput(f *activeFault, payloadType protocol.PayloadType) bool {
	switch f.At {
	case DropAtHandshake:
		return f.fire(payloadType == protocol.PayloadHandshakeResponse)
	case DropAtChallenge:
		return f.fire(payloadType == protocol.PayloadEncChallengeResponse)
	case DropAtPaste:
		if payloadType != protocol.PayloadOutput {
			return false
		}
		f.seen++
		return f.fire(f.seen%f.Every == 0)
	case DropAtRandom:
		return f.fire(f.rng.Intn(f.Every) == 0)
	}
	return false
}
