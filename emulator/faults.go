//go:build !js

package emulator

import (
	"fmt"
	"time"
)

// Fault kinds accepted in SessionRequest.Faults.
const (
	FaultReorder        = "reorder"
	FaultDuplicate      = "duplicate"
	FaultDrop           = "drop"
	FaultCorruptDigest  = "corrupt-digest"
	FaultPause          = "pause"
	FaultCloseSocket    = "close-socket"
	FaultChannelClosed  = "channel-closed"
	FaultFailHandshake  = "fail-handshake"
	FaultWrongChallenge = "wrong-challenge"
	FaultStopAcking     = "stop-acking"
	FaultDropSocket     = "drop-socket"
	FaultRefuseResume   = "refuse-resume"
	FaultPeriodicClose  = "periodic-close"
	FaultNewStreamURL   = "new-stream-url"
)

// Points at which a drop-socket fault closes the socket.
const (
	DropAtHandshake = "handshake" // when a HandshakeResponse arrives
	DropAtChallenge = "challenge" // when an EncChallengeResponse arrives
	DropAtOutput    = "output"    // after every Nth Output sent
	DropAtPaste     = "paste"     // when every Nth client Output arrives
	DropAtRandom    = "random"    // at each stream message, with chance 1/N
)

// Fault is one injected misbehaviour of the service or agent. Fields that a
// kind does not use are ignored; zero values take the defaults listed on
// each field. "After" and "every" count agent-to-client stream messages,
// counting first transmissions only, unless noted.
type Fault struct {
	Kind string `json:"kind"`

	// Window is the reorder window in messages (default 8).
	Window int `json:"window,omitempty"`
	// Every selects every Nth message: duplicate 5, drop 7,
	// corrupt-digest 9; for drop-socket at output or paste every Nth
	// message and at random a chance of 1/N per message (default 10).
	Every int `json:"every,omitempty"`
	// After is the number of messages before the fault fires once: pause
	// 20, close-socket 50, channel-closed 10; for stop-acking the number
	// of client input messages still acknowledged (default 5).
	After int `json:"after,omitempty"`
	// DurationMs is the pause length (default 500) or how long the agent
	// side waits after the first challenge response, which wrong-challenge
	// rejects, before it fails (default 1000).
	DurationMs int `json:"durationMs,omitempty"`
	// Reason is the channel_closed Output of channel-closed.
	Reason string `json:"reason,omitempty"`
	// At is the point at which drop-socket fires (default random).
	At string `json:"at,omitempty"`
	// Count is how many times drop-socket fires (default 1).
	Count int `json:"count,omitempty"`
	// Seed seeds the random choices of reorder and drop-socket
	// (default 1).
	Seed int64 `json:"seed,omitempty"`
	// IntervalMs is the period of periodic-close (default 3000).
	IntervalMs int `json:"intervalMs,omitempty"`
}

// defaultChannelClosedReason is the Output of a channel-closed fault.
const defaultChannelClosedReason = "Session closed by the emulator's channel-closed fault."

// normalize checks f and fills in its defaults.
func (f Fault) normalize() (Fault, error) {
	for name, v := range map[string]int{"window": f.Window, "every": f.Every,
		"after": f.After, "durationMs": f.DurationMs, "count": f.Count,
		"intervalMs": f.IntervalMs} {
		if v < 0 {
			return f, fmt.Errorf("fault %q: %s is %d, expected zero or more", f.Kind, name, v)
		}
	}
	if f.Seed == 0 {
		f.Seed = 1
	}
	switch f.Kind {
	case FaultReorder:
		f.Window = orDefault(f.Window, 8)
		if f.Window < 2 {
			return f, fmt.Errorf("fault %q: window is %d, expected at least 2", f.Kind, f.Window)
		}
	case FaultDuplicate:
		f.Every = orDefault(f.Every, 5)
	case FaultDrop:
		f.Every = orDefault(f.Every, 7)
		if f.Every < 2 {
			return f, fmt.Errorf("fault %q: every is %d, expected at least 2", f.Kind, f.Every)
		}
	case FaultCorruptDigest:
		f.Every = orDefault(f.Every, 9)
		if f.Every < 2 {
			return f, fmt.Errorf("fault %q: every is %d, expected at least 2", f.Kind, f.Every)
		}
	case FaultPause:
		f.After = orDefault(f.After, 20)
		f.DurationMs = orDefault(f.DurationMs, 500)
	case FaultCloseSocket:
		f.After = orDefault(f.After, 50)
	case FaultChannelClosed:
		f.After = orDefault(f.After, 10)
		if f.Reason == "" {
			f.Reason = defaultChannelClosedReason
		}
	case FaultWrongChallenge:
		f.DurationMs = orDefault(f.DurationMs, 1000)
	case FaultStopAcking:
		f.After = orDefault(f.After, 5)
	case FaultDropSocket:
		return f.normalizeDropSocket()
	case FaultPeriodicClose:
		f.IntervalMs = orDefault(f.IntervalMs, 3000)
	case FaultFailHandshake, FaultRefuseResume, FaultNewStreamURL:
	default:
		return f, fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return f, nil
}

func (f Fault) normalizeDropSocket() (Fault, error) {
	if f.At == "" {
		f.At = DropAtRandom
	}
	switch f.At {
	case DropAtHandshake, DropAtChallenge, DropAtOutput, DropAtPaste, DropAtRandom:
	default:
		return f, fmt.Errorf("fault %q: at is %q, expected handshake, challenge, output, "+
			"paste or random", f.Kind, f.At)
	}
	f.Count = orDefault(f.Count, 1)
	f.Every = orDefault(f.Every, 10)
	return f, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (f Fault) duration() time.Duration { return time.Duration(f.DurationMs) * time.Millisecond }

func (f Fault) interval() time.Duration { return time.Duration(f.IntervalMs) * time.Millisecond }

// normalizeFaults checks and completes a list of faults.
func normalizeFaults(faults []Fault) ([]Fault, error) {
	out := make([]Fault, len(faults))
	for i, f := range faults {
		n, err := f.normalize()
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		out[i] = n
	}
	return out, nil
}
