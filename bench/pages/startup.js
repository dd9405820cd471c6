// Start-up: from navigation start (performance.now() = 0) to the API being
// ready (ssm.js imported, ssm.wasm fetched, compiled and instantiated, the
// Go program started), then to the first shell output (the prompt). The
// runner loads the page twice in one profile: pass 1 finds every cache
// empty, pass 2 finds Chromium's HTTP cache and wasm code cache warm.

import { firstData, sessionOptions } from "./options.js";

export default async function run(params, bench) {
  const importMs = performance.now();
  const { load } = await import(params.ssmJs);
  const ssm = await load({ wasmUrl: params.wasmUrl });
  bench.step("ssm.wasm loaded");
  const readyMs = performance.now();

  const session = await ssm.startSession(sessionOptions(params));
  const openMs = performance.now();
  bench.step("session open");
  const promptMs = await firstData(session);
  session.terminate();

  const wasm = performance.getEntriesByType("resource")
    .find((e) => e.name.endsWith(".wasm"));
  return {
    importMs,
    readyMs,
    openMs,
    promptMs,
    wasmFetchStartMs: wasm ? wasm.fetchStart : null,
    wasmResponseEndMs: wasm ? wasm.responseEnd : null,
    wasmTransferBytes: wasm ? wasm.transferSize : null,
  };
}
