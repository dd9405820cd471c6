//go:build !js

package emulator

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func TestSplitIncompleteRune(t *testing.T) {
	euro := "\u20ac"      // 3 bytes
	emoji := "\U0001f600" // 4 bytes
	tests := []struct {
		name       string
		in         string
		head, tail string
	}{
		{"ascii", "abc", "abc", ""},
		{"complete two-byte", "a\u00e9", "a\u00e9", ""},
		{"one of three bytes", "ab" + euro[:1], "ab", euro[:1]},
		{"two of three bytes", "ab" + euro[:2], "ab", euro[:2]},
		{"three of four bytes", "a" + emoji[:3], "a", emoji[:3]},
		{"complete four bytes", "a" + emoji, "a" + emoji, ""},
		{"lone continuation byte", "ab\x80", "ab\x80", ""},
		{"invalid lead byte", "ab\xff", "ab\xff", ""},
		{"lead byte then ascii", "a\xe2b", "a\xe2b", ""},
		{"only a lead byte", euro[:1], "", euro[:1]},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, tail := splitIncompleteRune([]byte(tt.in))
			if string(head) != tt.head {
				t.Errorf("head = %q, want %q", head, tt.head)
			}
			if string(tail) != tt.tail {
				t.Errorf("tail = %q, want %q", tail, tt.tail)
			}
		})
	}
}

func TestChunkerKeepsRunesWhole(t *testing.T) {
	var stream bytes.Buffer
	for i := 0; stream.Len() < 20000; i++ {
		stream.WriteString("x\u00e9\u20ac\U0001f600")
		if i%7 == 0 {
			stream.WriteString("a")
		}
	}
	stream.WriteString("\xff\x80 invalid bytes pass through")
	stream.WriteString("\xe2\x82") // incomplete at the very end
	input := stream.Bytes()

	var c utf8Chunker
	var out bytes.Buffer
	for rest := input; len(rest) > 0; {
		n := min(c.readSize(), len(rest))
		payload := c.next(rest[:n])
		rest = rest[n:]
		if len(payload) > maxPayload {
			t.Fatalf("payload of %d bytes exceeds %d", len(payload), maxPayload)
		}
		if len(rest) > 100 && !utf8.Valid(payload) {
			t.Fatalf("payload at offset %d splits a character", out.Len())
		}
		out.Write(payload)
	}
	out.Write(c.flush())
	if !bytes.Equal(out.Bytes(), input) {
		t.Fatalf("chunked stream differs from the input")
	}
}
