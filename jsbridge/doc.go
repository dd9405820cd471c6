//go:build js && wasm

// Package jsbridge connects the protocol engine to a browser page. It is the
// only package of the module that imports syscall/js.
//
// Register installs the global namespace globalThis.ssm:
//
//	startSession(options) -> Promise<handle>
//	sendText(handle, data)             data: string or Uint8Array
//	onData(handle, cb) -> dispose      cb(Uint8Array) for Output payloads
//	onStderr(handle, cb) -> dispose    cb(Uint8Array) for StdErr payloads
//	onState(handle, cb) -> dispose     cb({state, attempt, reason})
//	resize(handle, cols, rows)
//	terminate(handle)
//	closed(handle) -> Promise<{exitCode, reason, clean}>
//	info(handle) -> {sessionId, customerMessage, encrypted, sessionType, state}
//
// A handle is a number. startSession rejects with an Error whose name is
// OpenError, HandshakeError, KMSError, ChallengeError or ClosedError, after
// the step of opening that failed, and with a TypeError for invalid options.
// Go cannot throw into its JavaScript caller, so the synchronous functions
// return a TypeError object on invalid arguments and undefined otherwise.
// The ES module ssm.js throws what they return.
//
// Output that arrives before the first onData or onStderr subscriber is
// kept and handed to that subscriber, so nothing is lost between the
// resolution of startSession and the page's subscription.
//
// Every callback from JavaScript returns at once: work that waits on the
// network or on a promise runs in a goroutine, because the event loop
// cannot deliver the awaited event while a callback blocks. A panic in a
// goroutine of a session ends that session with an error and leaves the
// Go program and the other sessions running.
package jsbridge
