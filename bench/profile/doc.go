// Package profile holds a js/wasm test that streams the emulator's
// benchmark output through ssm.wasm's JavaScript API, so that
// wasmbrowsertest can write a CPU profile of the receive path:
//
//	SSM_EMULATOR_URL=http://127.0.0.1:PORT GOOS=js GOARCH=wasm \
//		go test -exec go_js_wasm_exec -run TestProfileOutput \
//		-cpuprofile cpu.out ./bench/profile
//
// SSM_PROFILE_SOURCE (flood or window), SSM_PROFILE_COUNT and
// SSM_PROFILE_KMS=1 choose the stream. The page does not load ssm.js, so
// the bridge takes its path without ssm.js's frame queue and enters Go
// once per message event. The benchmarks measure the parts of a message's
// cost one by one. None of this is part of ./build.sh test.
package profile
