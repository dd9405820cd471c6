//go:build js && wasm

// Command wasm is the program of ssm.wasm: it installs globalThis.ssm and
// then serves calls from the page until the page goes away.
package main

import "github.com/ssmwasm/ssm.wasm/jsbridge"

func main() {
	jsbridge.Register()
	select {}
}
