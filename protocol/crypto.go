package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// DataKeySize is the number of bytes of the KMS data key of a session. The
// agent encrypts with the first half and the client with the second.
const DataKeySize = 64

const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)

// Encrypter seals and opens the payloads of a KMS-encrypted session with
// AES-256-GCM. A payload on the wire is nonce (12 bytes), ciphertext, tag
// (16 bytes), with no additional data.
type Encrypter struct {
	decrypt cipher.AEAD // key[0:32], the agent's encryption key
	encrypt cipher.AEAD // key[32:64], the client's encryption key
}

// NewEncrypter splits a 64-byte data key into the client's decryption key
// (the first half) and encryption key (the second half).
func NewEncrypter(dataKey []byte) (*Encrypter, error) {
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("new encrypter: data key of %d bytes, expected %d",
			len(dataKey), DataKeySize)
	}
	dec, err := newGCM(dataKey[:DataKeySize/2])
	if err != nil {
		return nil, err
	}
	enc, err := newGCM(dataKey[DataKeySize/2:])
	if err != nil {
		return nil, err
	}
	return &Encrypter{decrypt: dec, encrypt: enc}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new encrypter: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new encrypter: %w", err)
	}
	return gcm, nil
}

// Encrypt seals plaintext with the client's key and a fresh random nonce.
func (e *Encrypter) Encrypt(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, gcmNonceSize, gcmNonceSize+len(plaintext)+gcmTagSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypt payload: %w", err)
	}
	return sealWithNonce(e.encrypt, nonce, plaintext), nil
}

// sealWithNonce returns nonce||ciphertext||tag, appended to nonce.
func sealWithNonce(aead cipher.AEAD, nonce, plaintext []byte) []byte {
	return aead.Seal(nonce, nonce, plaintext, nil)
}

// Decrypt opens a payload sealed by the agent.
func (e *Encrypter) Decrypt(payload []byte) ([]byte, error) {
	if len(payload) < gcmNonceSize+gcmTagSize {
		return nil, fmt.Errorf("decrypt payload: %d bytes is shorter than nonce and tag",
			len(payload))
	}
	plain, err := e.decrypt.Open(nil, payload[:gcmNonceSize], payload[gcmNonceSize:], nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt payload of %d bytes: %w", len(payload), errDecrypt)
	}
	return plain, nil
}

// errDecrypt replaces the cipher's error, whose text adds nothing.
var errDecrypt = errors.New("message authentication failed")
