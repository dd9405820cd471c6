//go:build tools

// Package tools pins the versions of the programs that the test script
// builds: wasmbrowsertest runs GOOS=js GOARCH=wasm tests in headless
// Chromium. Its chromedp and cdproto are pinned to versions that know the
// IPAddressSpace values of current Chromium releases.
package tools

import _ "github.com/agnivade/wasmbrowsertest"
