//go:build js && wasm

package ssm_test

import (
	"syscall/js"
	"testing"
)

func TestRunsInBrowser(t *testing.T) {
	if js.Global().Get("document").IsUndefined() {
		t.Fatal("document is undefined: the test is not running in a browser page")
	}
}
