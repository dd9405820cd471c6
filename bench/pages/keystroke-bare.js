// Baseline for keystroke latency: a bare page WebSocket that sends a
// prepared input_stream_data frame per key and waits for the next
// output_stream_data frame. Output is acknowledged, as the agent expects;
// the frames are built before timing starts.

import {
  ackMessage,
  decodeHeader,
  encodeMessage,
  openMessage,
  PAYLOAD_OUTPUT,
  PAYLOAD_SIZE,
} from "./frames.js";
import { KEYS, SETTLE_MS, WARMUP_KEYS, waitForQuiet } from "./keys.js";

export default async function run(params, bench) {
  const size = await encodeMessage({
    type: "input_stream_data",
    seq: 0,
    payloadType: PAYLOAD_SIZE,
    payload: JSON.stringify({ cols: 80, rows: 24 }),
  });
  const keys = [];
  for (let i = 0; i < WARMUP_KEYS + params.keystrokes; i++) {
    keys.push(await encodeMessage({
      type: "input_stream_data",
      seq: i + 1,
      payloadType: PAYLOAD_OUTPUT,
      payload: KEYS[i % 2],
    }));
  }

  const channel = await open(params.session);
  channel.ws.send(size);
  bench.step("socket open");
  await waitForQuiet(() => channel.lastDataMs, bench);
  bench.step("prompt received");

  const latencies = [];
  for (const [i, frame] of keys.entries()) {
    const echoed = new Promise((resolve) => (channel.waiter = resolve));
    const sentMs = performance.now();
    channel.ws.send(frame);
    const echoMs = await echoed;
    if (i >= WARMUP_KEYS) {
      latencies.push(echoMs - sentMs);
    }
    await bench.sleep(SETTLE_MS);
  }
  channel.ws.close(1000);
  return { latencies };
}

// open connects and returns the channel state that onmessage updates.
function open(session) {
  return new Promise((resolve, reject) => {
    const channel = { ws: new WebSocket(session.StreamUrl), lastDataMs: 0, waiter: null, expected: 0 };
    channel.ws.binaryType = "arraybuffer";
    channel.ws.onopen = () => {
      channel.ws.send(openMessage(session.TokenValue));
      resolve(channel);
    };
    channel.ws.onerror = () => reject(new Error("WebSocket error"));
    channel.ws.onmessage = (event) => receive(channel, event.data);
  });
}

function receive(channel, data) {
  const now = performance.now();
  const header = decodeHeader(data);
  if (header.type !== "output_stream_data") {
    return;
  }
  ackMessage(header.seq).then((ack) => channel.ws.send(ack));
  if (header.seq < channel.expected) {
    return; // a retransmission, acknowledged again above
  }
  channel.expected = header.seq + 1;
  channel.lastDataMs = now;
  if (channel.waiter) {
    const resolve = channel.waiter;
    channel.waiter = null;
    resolve(now);
  }
}
