// Memory with many shell sessions open at once: wasm linear memory and the
// JS heap (after a full GC) once every session has printed its prompt.

import { sessionOptions } from "./options.js";

export default async function run(params, bench) {
  const { load } = await import(params.ssmJs);
  const ssm = await load({ wasmUrl: params.wasmUrl });
  const before = bench.memory();

  const sessions = await Promise.all(
    params.sessions.map((s) => ssm.startSession(sessionOptions(params, s))));
  await Promise.all(sessions.map((session) => new Promise((resolve) => {
    const sub = session.onData(() => {
      sub.dispose();
      resolve();
    });
  })));
  await bench.sleep(500);
  const open = bench.memory();

  for (const session of sessions) {
    session.terminate();
  }
  return { sessions: sessions.length, before, open };
}
