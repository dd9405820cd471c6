// Ceiling: a bare page WebSocket that only counts output frames and, in
// window mode, sends one fixed acknowledge frame for each, built
// before the stream starts (the window source frees a slot per ack). It
// reads the low word of each frame's sequence number, so that the
// emulator's retransmissions of unacknowledged messages count neither as
// payload nor as the end of the stream. It stops after the last message.

import { ackMessage, openMessage, HEADER_SIZE } from "./frames.js";

const LOWER_O = 0x6f; // first letter of output_stream_data
const LOWER_C = 0x63; // first letter of channel_closed
const SEQ_LOW_OFFSET = 52; // low 32 bits of the 64-bit SequenceNumber

export default async function run(params, bench) {
  const ack = params.mode === "window" ? await ackMessage(0) : null;
  await bench.mark("start");
  const counts = await receive(params, ack);
  await bench.mark("end");
  return counts;
}

function receive(params, ack) {
  return new Promise((resolve, reject) => {
    const counts = { bytes: 0, frames: 0, firstMs: 0, lastMs: 0 };
    let next = 0; // the sequence number of the next new frame
    const ws = new WebSocket(params.session.StreamUrl);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => ws.send(openMessage(params.session.TokenValue));
    ws.onmessage = (event) => {
      const data = event.data;
      const kind = new Uint8Array(data, 4, 1)[0];
      if (kind === LOWER_O) {
        if (ack) {
          ws.send(ack);
        }
        if (new DataView(data, SEQ_LOW_OFFSET, 4).getUint32(0) !== next) {
          return;
        }
        next++;
        const now = performance.now();
        if (counts.frames === 0) {
          counts.firstMs = now;
        }
        counts.lastMs = now;
        counts.frames++;
        counts.bytes += data.byteLength - HEADER_SIZE;
        if (next === params.count) {
          // The emulator would wait two seconds for acks it never gets
          // in flood mode before sending channel_closed.
          ws.close(1000);
          resolve(counts);
        }
      } else if (kind === LOWER_C) {
        ws.close(1000);
        resolve(counts);
      }
    };
    ws.onclose = (event) => {
      if (counts.frames < params.count) {
        reject(new Error(`socket closed (${event.code} ${event.reason}) after ${counts.frames} frames`));
      }
      resolve(counts);
    };
  });
}
