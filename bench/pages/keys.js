// Shared pieces of the keystroke pages.

// KEYS alternate a printable character and DEL, whose echoes keep the
// shell's command line from growing.
export const KEYS = ["x", "\x7f"];

// WARMUP_KEYS are sent and left out of the figures, so that the runs
// measure steady state rather than the first calls into fresh code.
export const WARMUP_KEYS = 50;

// SETTLE_MS is the pause after each echo, so that the rest of an echo
// (a DEL echoes several bytes) arrives before the next key is sent.
export const SETTLE_MS = 3;

// waitForQuiet resolves once output has started and then paused for
// 300 ms: the shell has printed its prompt.
export async function waitForQuiet(lastDataMs, bench) {
  const started = performance.now();
  for (;;) {
    await bench.sleep(50);
    const last = lastDataMs();
    if (last > 0 && performance.now() - last > 300) {
      return;
    }
    if (performance.now() - started > 30000) {
      throw new Error("no shell prompt within 30 s");
    }
  }
}
