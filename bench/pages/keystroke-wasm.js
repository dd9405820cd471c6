// Keystroke latency through ssm.wasm: the time from sendText of one
// character to the first onData after it, in a shell session. Keys
// alternate between "x" and DEL so the command line stays short.
//
// The page also splits each latency in three with a thin subclass of the
// page's WebSocket: out (sendText to the WebSocket send of the input
// frame), network (that send to the arrival of the echo frame, which the
// bare page also pays) and in (arrival to onData).

import { sessionOptions } from "./options.js";
import { KEYS, SETTLE_MS, WARMUP_KEYS, waitForQuiet } from "./keys.js";

const probe = { firstSendMs: 0, lastFrameMs: 0 };

class ProbedWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    // Registered before ssm.wasm sets onmessage, so it runs first.
    this.addEventListener("message", () => {
      probe.lastFrameMs = performance.now();
    });
  }

  send(data) {
    if (probe.firstSendMs === 0) {
      probe.firstSendMs = performance.now();
    }
    super.send(data);
  }
}

export default async function run(params, bench) {
  globalThis.WebSocket = ProbedWebSocket;
  const { load } = await import(params.ssmJs);
  const ssm = await load({ wasmUrl: params.wasmUrl });
  bench.step("ssm.wasm loaded");
  const session = await ssm.startSession(sessionOptions(params));

  let lastDataMs = 0;
  let waiter = null;
  session.onData(() => {
    lastDataMs = performance.now();
    if (waiter) {
      const resolve = waiter;
      waiter = null;
      resolve(lastDataMs);
    }
  });
  bench.step("session open");
  await waitForQuiet(() => lastDataMs, bench);
  bench.step("prompt received");

  const latencies = [];
  const parts = { out: [], network: [], in: [] };
  for (let i = 0; i < WARMUP_KEYS + params.keystrokes; i++) {
    const echoed = new Promise((resolve) => (waiter = resolve));
    probe.firstSendMs = 0;
    const sentMs = performance.now();
    session.sendText(KEYS[i % 2]);
    const echoMs = await echoed;
    if (i >= WARMUP_KEYS) {
      latencies.push(echoMs - sentMs);
      parts.out.push(probe.firstSendMs - sentMs);
      parts.network.push(probe.lastFrameMs - probe.firstSendMs);
      parts.in.push(echoMs - probe.lastFrameMs);
    }
    await bench.sleep(SETTLE_MS);
  }
  session.terminate();
  return { latencies, parts };
}
