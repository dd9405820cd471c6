// Memory while receiving a long stream: wasm linear memory and the JS heap
// (after a full GC) before the session and at each quarter of the output.

import { sessionOptions } from "./options.js";

export default async function run(params, bench) {
  const { load } = await import(params.ssmJs);
  const ssm = await load({ wasmUrl: params.wasmUrl });
  bench.step("ssm.wasm loaded");
  const total = params.count * params.size;
  const samples = [{ bytes: 0, ...bench.memory() }];

  const session = await ssm.startSession(sessionOptions(params));
  bench.step("session open");
  let bytes = 0;
  let next = total / 4;
  session.onData((data) => {
    bytes += data.length;
    if (bytes >= next) {
      next += total / 4;
      // Sample outside the callback, which runs inside the Go program.
      const at = bytes;
      setTimeout(() => samples.push({ bytes: at, ...bench.memory() }), 0);
    }
  });
  const closed = await session.closed;
  await bench.sleep(100);
  samples.push({ bytes, closed: true, ...bench.memory() });
  if (bytes < total) {
    throw new Error(`received ${bytes} payload bytes of ${total}; closed: ${JSON.stringify(closed)}`);
  }
  return { samples };
}
