//go:build !js

package emulator

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// dataKeySize is the size of a session's KMS data key: the agent encrypts
// with the first half and decrypts with the second.
const dataKeySize = 64

// channelCipher is the agent's AES-256-GCM state of a KMS session.
type channelCipher struct {
	seal cipher.AEAD // key[0:32], agent to client
	open cipher.AEAD // key[32:64], client to agent

	mu    sync.Mutex
	nonce [12]byte // counter with a random start, as the agent uses
}

// newChannelCipher splits a 64-byte data key into the agent's two keys.
func newChannelCipher(key []byte) (*channelCipher, error) {
	if len(key) != dataKeySize {
		return nil, fmt.Errorf("new channel cipher: key of %d bytes, expected %d",
			len(key), dataKeySize)
	}
	c := &channelCipher{}
	var err error
	if c.seal, err = newGCM(key[:32]); err != nil {
		return nil, err
	}
	if c.open, err = newGCM(key[32:]); err != nil {
		return nil, err
	}
	if _, err := rand.Read(c.nonce[:]); err != nil {
		return nil, fmt.Errorf("new channel cipher: %w", err)
	}
	return c, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new channel cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// encrypt returns nonce, ciphertext and tag of plaintext under the agent's
// key.
func (c *channelCipher) encrypt(plaintext []byte) []byte {
	nonce := c.nextNonce()
	out := make([]byte, 0, len(nonce)+len(plaintext)+c.seal.Overhead())
	out = append(out, nonce[:]...)
	return c.seal.Seal(out, nonce[:], plaintext, nil)
}

// nextNonce returns the current nonce and increments the counter, held as
// three little-endian 32-bit words.
func (c *channelCipher) nextNonce() [12]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nonce
	for i := 0; i < 12; i += 4 {
		word := binary.LittleEndian.Uint32(c.nonce[i:]) + 1
		binary.LittleEndian.PutUint32(c.nonce[i:], word)
		if word != 0 {
			break
		}
	}
	return n
}

// decrypt opens a client payload of nonce, ciphertext and tag.
func (c *channelCipher) decrypt(payload []byte) ([]byte, error) {
	size := c.open.NonceSize()
	if len(payload) < size+c.open.Overhead() {
		return nil, fmt.Errorf("decrypt payload: %d bytes is shorter than nonce and tag",
			len(payload))
	}
	plain, err := c.open.Open(nil, payload[:size], payload[size:], nil)
	if err != nil {
		return nil, errors.New("decrypt payload: authentication failed")
	}
	return plain, nil
}
