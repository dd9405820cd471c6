//go:build !js

package emulator

import (
	"bytes"
	"net/http"
	"testing"
)

func TestChannelCipherDirections(t *testing.T) {
	key := randomBytes(3, dataKeySize)
	agentSide, err := newChannelCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	swapped := append(append([]byte(nil), key[32:]...), key[:32]...)
	clientSide, err := newChannelCipher(swapped)
	if err != nil {
		t.Fatal(err)
	}

	toClient := agentSide.encrypt([]byte("agent output"))
	if got, err := clientSide.decrypt(toClient); err != nil || string(got) != "agent output" {
		t.Errorf("client decrypt of agent output: %q, %v", got, err)
	}
	toAgent := clientSide.encrypt([]byte("client input"))
	if got, err := agentSide.decrypt(toAgent); err != nil || string(got) != "client input" {
		t.Errorf("agent decrypt of client input: %q, %v", got, err)
	}
	if _, err := agentSide.decrypt(toClient); err == nil {
		t.Errorf("the agent decrypted its own output with the client's key")
	}
}

func TestChannelCipherNonceCounter(t *testing.T) {
	c, err := newChannelCipher(randomBytes(4, dataKeySize))
	if err != nil {
		t.Fatal(err)
	}
	c.nonce = [12]byte{0xff, 0xff, 0xff, 0xff, 7}
	first := c.encrypt([]byte("x"))
	second := c.encrypt([]byte("x"))
	if !bytes.Equal(first[:12], []byte{0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("first nonce %x", first[:12])
	}
	if !bytes.Equal(second[:12], []byte{0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("second nonce %x, want the counter carried into the next word", second[:12])
	}
	if len(first) != 12+1+16 {
		t.Errorf("payload of %d bytes, want nonce, 1 byte and tag", len(first))
	}
}

func TestChannelCipherRejectsBadInput(t *testing.T) {
	if _, err := newChannelCipher(make([]byte, 32)); err == nil {
		t.Errorf("a 32-byte key was accepted")
	}
	c, _ := newChannelCipher(randomBytes(5, dataKeySize))
	for _, payload := range [][]byte{nil, make([]byte, 27), make([]byte, 40)} {
		if _, err := c.decrypt(payload); err == nil {
			t.Errorf("decrypt of %d bytes succeeded", len(payload))
		}
	}
}

func TestAcceptsEncoding(t *testing.T) {
	tests := []struct {
		header, encoding string
		want             bool
	}{
		{"gzip, deflate, br", "br", true},
		{"gzip, deflate, br", "gzip", true},
		{"br;q=0", "br", false},
		{"br; q=0", "br", false},
		{"BR", "br", true},
		{"", "gzip", false},
		{"identity", "gzip", false},
	}
	for _, tt := range tests {
		r := &http.Request{Header: http.Header{"Accept-Encoding": {tt.header}}}
		if got := acceptsEncoding(r, tt.encoding); got != tt.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v, want %v", tt.header, tt.encoding, got, tt.want)
		}
	}
}
