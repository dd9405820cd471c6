package protocol

import (
	"log/slog"
	"math/bits"
)

// dropCounter counts swallowed errors by reason and logs each reason at
// its 1st, 2nd, 4th, 8th... occurrence, so a flood of one kind stays
// readable.
type dropCounter struct {
	counts map[string]int
}

func (d *dropCounter) note(log *slog.Logger, reason string, attrs ...any) {
	if d.counts == nil {
		d.counts = make(map[string]int)
	}
	d.counts[reason]++
	n := d.counts[reason]
	if bits.OnesCount(uint(n)) != 1 {
		return
	}
	log.Warn("dropped: "+reason, append(attrs, "count", n)...)
}

func (d *dropCounter) total() int {
	total := 0
	for _, n := range d.counts {
		total += n
	}
	return total
}
