package protocol

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestSealVector(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	nonce := make([]byte, 12)
	for i := range nonce {
		nonce[i] = 0xa0 + byte(i)
	}
	aead, err := newGCM(key)
	if err != nil {
		t.Fatal(err)
	}
	got := hex.EncodeToString(sealWithNonce(aead, nonce, []byte("hello")))
	const want = "a0a1a2a3a4a5a6a7a8a9aaab8e7d10412ab469edeb6fa84bae4731a07dbf70c564"
	if got != want {
		t.Errorf("sealed = %s\nwant     %s", got, want)
	}
}

func TestEncrypterKeyHalves(t *testing.T) {
	dataKey := testDataKey()
	enc, err := NewEncrypter(dataKey)
	if err != nil {
		t.Fatal(err)
	}
	agentSide, _ := newGCM(dataKey[:32])
	fromAgent := sealWithNonce(agentSide, make([]byte, 12), []byte("agent output"))
	plain, err := enc.Decrypt(fromAgent)
	if err != nil || string(plain) != "agent output" {
		t.Fatalf("Decrypt = %q, %v", plain, err)
	}

	sealed, err := enc.Encrypt([]byte("keys"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 12+4+16 {
		t.Errorf("sealed length %d, want nonce, 4 bytes and tag", len(sealed))
	}
	if got := openWith(t, dataKey[32:], sealed); string(got) != "keys" {
		t.Errorf("agent decrypts %q", got)
	}
	again, _ := enc.Encrypt([]byte("keys"))
	if bytes.Equal(sealed[:12], again[:12]) {
		t.Error("two messages share a nonce")
	}
}

func TestEncrypterRejects(t *testing.T) {
	if _, err := NewEncrypter(make([]byte, 32)); err == nil {
		t.Error("NewEncrypter accepted a 32-byte key")
	}
	enc, _ := NewEncrypter(testDataKey())
	for _, payload := range [][]byte{nil, make([]byte, 27), make([]byte, 40)} {
		if _, err := enc.Decrypt(payload); err == nil {
			t.Errorf("Decrypt accepted %d bytes of zeros", len(payload))
		}
	}
}

// testDataKey returns a fixed 64-byte key whose halves differ.
func testDataKey() []byte {
	key := make([]byte, DataKeySize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	return key
}

// openWith opens nonce||ciphertext||tag with key, as the agent does.
func openWith(t *testing.T, key, sealed []byte) []byte {
	t.Helper()
	aead, err := newGCM(key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := aead.Open(nil, sealed[:12], sealed[12:], nil)
	if err != nil {
		t.Fatalf("open with the agent's key: %v", err)
	}
	return plain
}
