//go:build !js

package emulator

import "unicode/utf8"

// maxPayload is the largest Output payload the agent side sends.
const maxPayload = 1024

// splitIncompleteRune splits p before a valid but incomplete UTF-8 sequence
// at its end, so that a multi-byte character is never divided between two
// messages. Invalid bytes and complete text are returned whole in head; the
// tail is at most 3 bytes long.
func splitIncompleteRune(p []byte) (head, tail []byte) {
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		if !utf8.RuneStart(p[i]) {
			continue
		}
		if utf8.FullRune(p[i:]) {
			return p, nil
		}
		return p[:i], p[i:]
	}
	return p, nil
}

// utf8Chunker cuts a byte stream into payloads of at most maxPayload bytes
// that never end inside a valid UTF-8 sequence.
type utf8Chunker struct {
	carry []byte
}

// readSize returns how many bytes the next read may take so that the carried
// bytes and the read still fit in one payload.
func (c *utf8Chunker) readSize() int {
	return maxPayload - len(c.carry)
}

// next combines the carried bytes with a read and returns the payload to
// send, which may be empty while a sequence is still incomplete.
func (c *utf8Chunker) next(read []byte) []byte {
	buf := make([]byte, 0, len(c.carry)+len(read))
	buf = append(append(buf, c.carry...), read...)
	head, tail := splitIncompleteRune(buf)
	c.carry = append(c.carry[:0], tail...)
	return head
}

// flush returns the carried bytes at the end of the stream.
func (c *utf8Chunker) flush() []byte {
	rest := c.carry
	c.carry = nil
	return rest
}
