// ssm.wasm through its JavaScript API: payload bytes delivered by onData,
// plaintext or with KMS encryption.

import { sessionOptions } from "./options.js";

export default async function run(params, bench) {
  const { load } = await import(params.ssmJs);
  const ssm = await load({ wasmUrl: params.wasmUrl });
  bench.step("ssm.wasm loaded");
  const counts = { bytes: 0, frames: 0, firstMs: 0, lastMs: 0 };

  await bench.mark("start");
  const session = await ssm.startSession(sessionOptions(params));
  bench.step("session open");
  session.onData((bytes) => {
    const now = performance.now();
    if (counts.frames === 0) {
      counts.firstMs = now;
    }
    counts.lastMs = now;
    counts.frames++;
    counts.bytes += bytes.length;
  });
  const closed = await session.closed;
  await bench.mark("end");

  counts.encrypted = session.encrypted;
  counts.closed = closed;
  if (counts.bytes < params.count * params.size) {
    throw new Error(`received ${counts.bytes} payload bytes of ${params.count * params.size}; closed: ${JSON.stringify(closed)}`);
  }
  return counts;
}
