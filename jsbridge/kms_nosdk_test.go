//go:build js && wasm && ssm_nosdk

package jsbridge

import (
	"context"
	"strings"
	"syscall/js"
	"testing"
)

func TestNoSDKRejectsCredentials(t *testing.T) {
	Register()
	opts := js.ValueOf(map[string]any{
		"streamUrl":  "ws://127.0.0.1:1/unused",
		"tokenValue": "unused",
		"kms": map[string]any{
			"region":      "us-east-1",
			"credentials": map[string]any{"accessKeyId": "a", "secretAccessKey": "b"},
		},
	})
	p := js.Global().Get("ssm").Call("startSession", opts)
	_, err := await(context.Background(), p)
	if err == nil {
		t.Fatal("startSession with KMS credentials resolved, want a rejection")
	}
	if !strings.Contains(err.Error(), "TypeError") ||
		!strings.Contains(err.Error(), "generateDataKey") {
		t.Errorf("rejection %q is not a TypeError pointing to generateDataKey", err)
	}
}
