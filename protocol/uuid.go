package protocol

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
)

// UUID is a message id in canonical byte order.
type UUID [16]byte

// uuidRandom buffers crypto/rand output for NewUUID. In a browser every
// crypto/rand read is a call to getRandomValues in JavaScript, so one
// read per ack cost more than the rest of building it.
var uuidRandom struct {
	mu   sync.Mutex
	buf  [4096]byte
	next int // offset of the first unused byte; 0 before the first fill
}

// NewUUID returns a random version 4 UUID. Its bytes come from
// crypto/rand, read 4 KiB at a time; each byte is handed out once and
// cleared from the buffer.
func NewUUID() UUID {
	var u UUID
	r := &uuidRandom
	r.mu.Lock()
	if r.next == 0 || r.next+len(u) > len(r.buf) {
		rand.Read(r.buf[:])
		r.next = 0
	}
	unused := r.buf[r.next : r.next+len(u)]
	copy(u[:], unused)
	clear(unused)
	r.next += len(u)
	r.mu.Unlock()
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// ParseUUID parses the hyphenated 8-4-4-4-12 form.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("parse uuid %q: invalid format", s)
	}
	plain := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(plain)); err != nil {
		return u, fmt.Errorf("parse uuid %q: %w", s, err)
	}
	return u, nil
}

// String returns the lower-case hyphenated form used in ack payloads.
func (u UUID) String() string {
	var b [36]byte
	return string(u.appendString(b[:0]))
}

// appendString appends the lower-case hyphenated form to b.
func (u UUID) appendString(b []byte) []byte {
	b = hex.AppendEncode(b, u[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, u[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, u[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, u[8:10])
	b = append(b, '-')
	return hex.AppendEncode(b, u[10:16])
}
