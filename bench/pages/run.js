// Entry point of every benchmark page. It fetches the configuration that
// the runner prepared for this run, imports the benchmark module named
// there, and posts the module's result (or the error) back to the runner.
// A run with several passes reloads the page once per pass, so later
// passes find Chromium's caches warm.

const query = new URLSearchParams(location.search);
const runId = query.get("run");
const pass = Number(query.get("pass") || "1");

// Every WebAssembly memory instantiated on the page, recorded by wrapping
// the two instantiate functions before any module loads. Go's wasm
// programs export their linear memory as "mem".
const memories = [];

function recordInstance(result) {
  const instance = result instanceof WebAssembly.Instance ? result : result.instance;
  const mem = instance && instance.exports.mem;
  if (mem instanceof WebAssembly.Memory) {
    memories.push(mem);
  }
  return result;
}

const instantiate = WebAssembly.instantiate;
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiate = (...args) => instantiate(...args).then(recordInstance);
WebAssembly.instantiateStreaming = (...args) =>
  instantiateStreaming(...args).then(recordInstance);

// Every Go program started on the page. wasm_exec.js assigns its class to
// globalThis.Go, and this setter stores a subclass that records its
// instances, whose _ids map contains the JavaScript values Go refers to.
const goPrograms = [];
let goClass;
Object.defineProperty(globalThis, "Go", {
  configurable: true,
  get: () => goClass,
  set: (cls) => {
    goClass = class extends cls {
      constructor(...args) {
        super(...args);
        goPrograms.push(this);
      }
    };
  },
});

// bench is the helper object every benchmark module receives.
export const bench = {
  runId,
  pass,

  // mark makes the runner sample Chromium's CPU time now. The runner
  // reports the difference between two marks.
  async mark(name) {
    const resp = await fetch(`/mark/${runId}/${pass}/${name}`, { method: "POST" });
    if (!resp.ok) {
      throw new Error(`mark ${name}: HTTP ${resp.status}: ${await resp.text()}`);
    }
  },

  // step reports progress: the runner names the latest step when a page
  // times out.
  step(message) {
    fetch(`/log/${runId}`, { method: "POST", body: `pass ${pass}: ${message}` });
  },

  // memory returns the wasm linear memory in bytes, the JS heap in use
  // after a full garbage collection (Chromium runs with --expose-gc and
  // --enable-precise-memory-info), and how many JavaScript values the Go
  // programs hold references to, which keeps them from being collected.
  memory() {
    globalThis.gc();
    return {
      wasmBytes: memories.reduce((sum, m) => sum + m.buffer.byteLength, 0),
      heapBytes: performance.memory.usedJSHeapSize,
      goValues: goPrograms.reduce((sum, go) => sum + (go._ids ? go._ids.size : 0), 0),
    };
  },

  sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  },
};

async function post(result) {
  const resp = await fetch(`/result/${runId}/${pass}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(result),
  });
  if (!resp.ok) {
    throw new Error(`post result: HTTP ${resp.status}`);
  }
}

function fail(err) {
  const message = err && err.stack ? `${err.name}: ${err.message}\n${err.stack}` : String(err);
  post({ error: message || "unknown error" }).catch(() => {});
}

window.addEventListener("error", (e) => fail(e.error || e.message));
window.addEventListener("unhandledrejection", (e) => fail(e.reason));

async function main() {
  const resp = await fetch(`/config/${runId}/${pass}`);
  if (!resp.ok) {
    throw new Error(`fetch configuration: HTTP ${resp.status}: ${await resp.text()}`);
  }
  const config = await resp.json();
  const module = await import(`./${config.page}.js`);
  const result = await module.default(config.params, bench);
  await post(result);
  if (pass < config.passes) {
    location.replace(`run.html?run=${encodeURIComponent(runId)}&pass=${pass + 1}`);
  }
}

main().catch(fail);
