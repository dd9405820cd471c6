// Reference: ssm-session 1.0.6 used as its README shows. Every message is
// decoded and acknowledged; the payload bytes of Output messages are
// counted in place of writing them to a terminal.

import { ssm } from "/lib/ssm-session/index.js";

const PAYLOAD_OUTPUT = 1;

export default async function run(params, bench) {
  await bench.mark("start");
  const counts = await receive(params);
  await bench.mark("end");
  return counts;
}

function receive(params) {
  return new Promise((resolve, reject) => {
    const counts = { bytes: 0, frames: 0, firstMs: 0, lastMs: 0 };
    const socket = new WebSocket(params.session.StreamUrl);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => {
      ssm.init(socket, {
        token: params.session.TokenValue,
        termOptions: { cols: 80, rows: 24 },
      });
    });
    socket.addEventListener("message", (event) => {
      const message = ssm.decode(event.data);
      ssm.sendACK(socket, message);
      if (message.messageType === "output_stream_data" && message.payloadType === PAYLOAD_OUTPUT) {
        const now = performance.now();
        if (counts.frames === 0) {
          counts.firstMs = now;
        }
        counts.lastMs = now;
        counts.frames++;
        counts.bytes += message.payload.length;
      } else if (message.messageType === "channel_closed") {
        socket.close(1000);
        resolve(counts);
      }
    });
    socket.addEventListener("close", (event) => {
      if (counts.frames < params.count) {
        reject(new Error(`socket closed (${event.code} ${event.reason}) after ${counts.frames} frames`));
      }
      resolve(counts);
    });
  });
}
