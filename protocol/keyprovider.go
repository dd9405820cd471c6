package protocol

import "context"

// DataKeyRequest is the input of KMS GenerateDataKey for a session.
type DataKeyRequest struct {
	KeyID             string
	EncryptionContext map[string]string
	NumberOfBytes     int32
}

// DataKey is the output of KMS GenerateDataKey.
type DataKey struct {
	Plaintext      []byte
	CiphertextBlob []byte
}

// KeyProvider generates the data key of a KMS-encrypted session. The
// protocol/awskms package provides one on the AWS SDK; a browser page can
// supply its own that calls its backend.
type KeyProvider interface {
	GenerateDataKey(ctx context.Context, req DataKeyRequest) (DataKey, error)
}

// KeyProviderFunc adapts a function to KeyProvider.
type KeyProviderFunc func(ctx context.Context, req DataKeyRequest) (DataKey, error)

// GenerateDataKey calls f.
func (f KeyProviderFunc) GenerateDataKey(ctx context.Context, req DataKeyRequest) (DataKey, error) {
	return f(ctx, req)
}
