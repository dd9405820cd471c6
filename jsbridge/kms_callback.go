//go:build js && wasm

package jsbridge

import (
	"context"
	"fmt"
	"syscall/js"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// callbackKeyProvider is a protocol.KeyProvider that calls the page's
// kms.generateDataKey(request) and awaits the promise it returns. A page
// uses it to keep AWS credentials on its backend.
type callbackKeyProvider struct {
	fn js.Value
}

// GenerateDataKey calls the JavaScript function with
// {keyId, encryptionContext, numberOfBytes} and expects
// {plaintext, ciphertextBlob}, each a Uint8Array or ArrayBuffer.
func (p callbackKeyProvider) GenerateDataKey(ctx context.Context,
	req protocol.DataKeyRequest) (protocol.DataKey, error) {
	var key protocol.DataKey

	v, err := callJS(p.fn, dataKeyRequestToJS(req))
	if err == nil {
		v, err = await(ctx, v)
	}
	if err != nil {
		return key, fmt.Errorf("kms.generateDataKey: %w", err)
	}

	if v.Type() != js.TypeObject {
		return key, fmt.Errorf("kms.generateDataKey: result must be an object "+
			"{plaintext, ciphertextBlob}, got %s", describe(v))
	}
	var ok bool
	if key.Plaintext, ok = bytesFromJS(get(v, "plaintext")); !ok {
		return key, fmt.Errorf("kms.generateDataKey: result.plaintext must be "+
			"a Uint8Array, got %s", describe(get(v, "plaintext")))
	}
	if key.CiphertextBlob, ok = bytesFromJS(get(v, "ciphertextBlob")); !ok {
		return key, fmt.Errorf("kms.generateDataKey: result.ciphertextBlob "+
			"must be a Uint8Array, got %s", describe(get(v, "ciphertextBlob")))
	}
	return key, nil
}

func dataKeyRequestToJS(req protocol.DataKeyRequest) js.Value {
	context := jsObject.New()
	for k, v := range req.EncryptionContext {
		context.Set(k, v)
	}
	r := jsObject.New()
	r.Set("keyId", req.KeyID)
	r.Set("encryptionContext", context)
	r.Set("numberOfBytes", int(req.NumberOfBytes))
	return r
}
