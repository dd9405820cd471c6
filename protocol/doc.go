// Package protocol is a client of the AWS Session Manager data channel:
// the WebSocket that carries a shell, command or port session between a
// client and the SSM agent. It has no browser code, because a Transport
// moves the frames: the same engine runs natively (DialWebSocket) and in
// js/wasm with a browser WebSocket.
//
// Open dials the StreamUrl of StartSession, sends the open message,
// performs the agent's handshake (session type, KMS encryption with the
// encryption challenge) and returns a Session. One goroutine per session
// owns all protocol state and is fed by channels: received frames,
// commands from the exported methods, key provider results, reconnect
// results and a 100 ms scheduler tick. It implements:
//
//   - sequencing: outgoing messages numbered from 0 and kept, marshalled
//     once, until acknowledged; the oldest one retransmitted byte-identical
//     after the retransmission timeout, estimated from round trips as in
//     TCP (SRTT, RTTVAR, capped at 1 s);
//   - the ack policy: every output_stream_data is acked when delivered or
//     stored ahead of the expected sequence number, duplicates are acked
//     again, and a message is not acked when the client cannot take it,
//     so the agent sends it again;
//   - pause_publication and start_publication, the give-up deadline
//     (GiveUpTimeout) and the bounded buffers (OutgoingCapacity,
//     IncomingCapacity);
//   - resume: after a dropped socket, Config.Resume supplies a new token,
//     and the session continues on a new socket with all its state.
//
// Time comes from Config.Clock, so tests drive retransmission, back-off
// and deadlines without sleeping.
//
// NOTE: the package does not call SSM APIs. Ending a shell session on the
// agent needs the TerminateSession API, and Port sessions get their bytes
// through Write and OnOutput without a multiplexer.
package protocol
