// Keystroke latency through ssm.wasm: the time from sendText of one
// character to the first onData after it, in a shell session. Keys
// alternate between "x" and DEL so the command line stays short.

import { sessionOptions } from "./options.js";
import { KEYS, SETTLE_MS, waitForQuiet } from "./keys.js";

export default async function run(params, bench) {
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
  for (let i = 0; i < params.keystrokes; i++) {
    const echoed = new Promise((resolve) => (waiter = resolve));
    const sentMs = performance.now();
    session.sendText(KEYS[i % 2]);
    latencies.push((await echoed) - sentMs);
    await bench.sleep(SETTLE_MS);
  }
  session.terminate();
  return { latencies };
}
