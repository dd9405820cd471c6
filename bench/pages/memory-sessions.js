// Memory with many shell sessions open at once: wasm linear memory and the
// JS heap (after a full GC) once every session has printed its prompt.

import { firstData, sessionOptions } from "./options.js";

export default async function run(params, bench) {
  const { load } = await import(params.ssmJs);
  const ssm = await load({ wasmUrl: params.wasmUrl });
  bench.step("ssm.wasm loaded");
  const before = bench.memory();

  const sessions = await Promise.all(
    params.sessions.map((s) => ssm.startSession(sessionOptions(params, s))));
  bench.step("sessions open");
  await Promise.all(sessions.map(firstData));
  bench.step("every prompt received");
  await bench.sleep(500);
  const open = bench.memory();

  for (const session of sessions) {
    session.terminate();
  }
  return { sessions: sessions.length, before, open };
}
