// Package emulator runs a local stand-in for the Session Manager service
// and its agent, for tests and demos of data-channel clients.
//
// One loopback HTTP server serves the session API, the WebSocket data
// channel and, optionally, static files. Each session runs an independent
// implementation of the agent's side of the protocol. It covers the
// handshake, KMS encryption with an embedded local KMS, acknowledgements, a
// reorder buffer and retransmission of the oldest unacknowledged message.
// Behind it runs a real shell in a pseudo-terminal, a command, a loopback
// echo for Port sessions, or a benchmark source. Faults (reordering, drops,
// corrupt digests, dropped sockets and more) can be injected per session.
//
// The HTTP API takes and returns JSON. Browsers may call it from any http
// page on 127.0.0.1, localhost or [::1]; other origins get 403.
//
//	POST /v1/sessions                 SessionRequest -> SessionInfo
//	POST /v1/sessions/{id}/resume     -> ResumeInfo (empty TokenValue once ended)
//	POST /v1/sessions/{id}/terminate  -> {} and channel_closed to the client
//	GET  /v1/data-channel/{id}?role=publish_subscribe   the WebSocket
//
// The first WebSocket frame must be a text OpenDataChannelInput carrying the
// session's current token; otherwise the server closes with code 1003 and a
// reason. Each resume issues a new token and the older ones stop working,
// while the agent side keeps its sequence numbers and buffers.
//
// The package needs a Unix-like system (a shell, pseudo-terminals) and does
// not build for js/wasm.
//
// Differences from the real service and agent, chosen for testing:
//   - Output is sent without the agent's 1 ms pause between reads, and a
//     shell's output reader starts at once instead of after one second.
//   - While no client is connected, or during a pause fault, the session
//     produces no new output. When a client attaches, every unacknowledged
//     message is sent again once, as the service would relay them; after
//     that only the oldest one is retransmitted.
//   - The closing drain waits until 2 s pass without an acknowledgement
//     that removes a message, counting only time while a client is
//     connected. The agent waits at most 2 s in all.
//   - After a wrong encryption challenge response the session fails one
//     second later, not after the agent's full 15 s timeout.
//   - A Port session echoes every Output payload back instead of dialling
//     a destination port.
//   - Shells start without startup files, with the prompt "$ ".
package emulator
