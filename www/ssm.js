// ssm.js loads ssm.wasm, a Go client of the AWS Session Manager data
// channel, and wraps the global namespace it installs (globalThis.ssm) in
// session objects.
//
//   import { load } from "./ssm.js";
//   const ssm = await load();
//   const session = await ssm.startSession({ streamUrl, tokenValue, ... });
//   session.onData((bytes) => term.write(bytes));
//   session.sendText("ls\r");
//
// The types are in ssm.d.ts.

let loading = null;

// ssmWasmSupport is the support object that ssm.wasm looks for when it
// opens a WebSocket. With it, received frames wait in a JavaScript queue,
// and the Go program is entered once per batch of frames instead of once
// per message event, which costs tens of microseconds. Frames that Go
// sends together also cross into JavaScript in one call. It is built
// without eval, so pages whose Content-Security-Policy allows only
// 'wasm-unsafe-eval' can use it. ssm.wasm without it handles each event
// in Go.
const frameEncoder = new TextEncoder();
const frameDecoder = new TextDecoder();

const ssmWasmSupport = Object.freeze({
  /**
   * Sets ws.onmessage to queue each frame and returns the queue:
   * - take() returns every queued frame in one Uint8Array, each frame as
   *   its length and its kind (1 text, 2 binary), both little-endian
   *   uint32, then its bytes (a text frame as UTF-8). When the queue is
   *   empty it returns null, and the next frame schedules a call of
   *   wake() in a later task, so that the message events already waiting
   *   in the browser's queue join the batch first.
   * - close() stops the queue and any scheduled call of wake().
   */
  queueWebSocket(ws, wake) {
    let frames = [];
    let size = 0;
    let waiting = false;
    let wakeGo = wake;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => wakeGo?.();
    ws.onmessage = (event) => {
      const text = typeof event.data === "string";
      const bytes = text ? frameEncoder.encode(event.data) : new Uint8Array(event.data);
      frames.push({ kind: text ? 1 : 2, bytes });
      size += 8 + bytes.length;
      if (waiting) {
        waiting = false;
        channel.port2.postMessage(null);
      }
    };
    return {
      take() {
        if (frames.length === 0) {
          waiting = true;
          return null;
        }
        const batch = new Uint8Array(size);
        const view = new DataView(batch.buffer);
        let offset = 0;
        for (const { kind, bytes } of frames) {
          view.setUint32(offset, bytes.length, true);
          view.setUint32(offset + 4, kind, true);
          batch.set(bytes, offset + 8);
          offset += 8 + bytes.length;
        }
        frames = [];
        size = 0;
        return batch;
      },
      close() {
        wakeGo = null;
        waiting = false;
        channel.port1.close();
      },
    };
  },

  /**
   * Sends every frame of batch, a Uint8Array in the format of take(), on
   * ws in order: binary frames as views of batch, text frames decoded
   * from UTF-8.
   */
  sendFrames(ws, batch) {
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    for (let offset = 0; offset + 8 <= batch.length; ) {
      const length = view.getUint32(offset, true);
      const kind = view.getUint32(offset + 4, true);
      const bytes = batch.subarray(offset + 8, offset + 8 + length);
      ws.send(kind === 1 ? frameDecoder.decode(bytes) : bytes);
      offset += 8 + length;
    }
  },
});

// Install the support object when the module loads, so that a Go program
// already running in the page uses it for the WebSockets it opens later.
globalThis.ssmWasmSupport ??= ssmWasmSupport;

/**
 * Loads wasm_exec.js and ssm.wasm once and returns the API. Later calls
 * return the same promise, whatever their options. URLs default to the
 * files next to this module; relative URLs resolve against the page.
 */
export function load(options = {}) {
  if (!loading) {
    loading = loadOnce(options).catch((err) => {
      loading = null; // let a later call try again
      throw err;
    });
  }
  return loading;
}

async function loadOnce({ wasmUrl, wasmExecUrl } = {}) {
  // A Go program in the page (a test, or a page that ran ssm.wasm itself)
  // may have installed the namespace already.
  if (!globalThis.ssm) {
    await loadWasmExec(resolveUrl(wasmExecUrl, "./wasm_exec.js"));
    await runWasm(resolveUrl(wasmUrl, "./ssm.wasm"));
  }
  const raw = globalThis.ssm;
  if (!raw || typeof raw.startSession !== "function") {
    throw new Error("load: ssm.wasm did not install globalThis.ssm");
  }
  return new Client(raw);
}

function resolveUrl(url, fallback) {
  if (url === undefined) {
    return new URL(fallback, import.meta.url).href;
  }
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  return new URL(String(url), base).href;
}

async function loadWasmExec(url) {
  if (typeof globalThis.Go === "function") {
    return;
  }
  // wasm_exec.js is a classic script that only assigns globalThis.Go, so
  // importing it as a module runs it the same way, in pages and workers.
  await import(url);
  if (typeof globalThis.Go !== "function") {
    throw new Error(`load: ${url} did not define globalThis.Go`);
  }
}

async function runWasm(url) {
  const go = new globalThis.Go();
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`load: fetching ${url} failed with HTTP ${response.status}`);
  }
  const instance = await instantiate(response, go.importObject);

  // run resolves only when the Go program exits, which it does not do on
  // its own. Its main function installs globalThis.ssm before run yields.
  go.run(instance).then(
    () => console.error("ssm: the Go program exited; reload the page"),
    (err) => console.error("ssm: the Go program failed:", err),
  );
}

async function instantiate(response, imports) {
  if (typeof WebAssembly.instantiateStreaming === "function") {
    try {
      const result = await WebAssembly.instantiateStreaming(response.clone(), imports);
      return result.instance;
    } catch (err) {
      // A server that sends ssm.wasm without Content-Type: application/wasm
      // makes streaming fail; compile from the whole body instead.
      console.warn("ssm: streaming compilation failed, retrying without:", err);
    }
  }
  const result = await WebAssembly.instantiate(await response.arrayBuffer(), imports);
  return result.instance;
}

// check throws what a synchronous function of the raw namespace returned
// as an Error: Go cannot throw into its JavaScript caller.
function check(result) {
  if (result instanceof Error) {
    throw result;
  }
  return result;
}

function subscription(dispose) {
  let disposed = false;
  return {
    get disposed() {
      return disposed;
    },
    dispose() {
      if (!disposed) {
        disposed = true;
        dispose();
      }
    },
  };
}

// subscribeDeferred subscribes cb through subscribe, but hands it the
// output kept from before the subscription only after the caller has the
// subscription, so that cb may use or dispose of it. Output that arrives
// meanwhile queues behind the kept output, in order.
function subscribeDeferred(subscribe, cb) {
  if (typeof cb !== "function") {
    throw new TypeError(`callback must be a function, got ${typeof cb}`);
  }
  let early = [];
  const sub = subscription(
    check(subscribe((bytes) => (early ? early.push(bytes) : cb(bytes)))),
  );
  queueMicrotask(() => {
    const kept = early;
    early = null;
    for (const bytes of kept) {
      if (sub.disposed) {
        return;
      }
      try {
        cb(bytes);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  });
  return sub;
}

/** Client starts sessions; load() returns one. */
class Client {
  #raw;

  constructor(raw) {
    this.#raw = raw;
  }

  /** The raw namespace that ssm.wasm installs as globalThis.ssm. */
  get raw() {
    return this.#raw;
  }

  /**
   * Opens a session. Rejects with a TypeError for invalid options, or with
   * an Error named OpenError, HandshakeError, KMSError, ChallengeError or
   * ClosedError after the step that failed.
   */
  async startSession(options) {
    const handle = await this.#raw.startSession(options);
    return new Session(this.#raw, handle);
  }
}

/** Session is an open data channel session. */
export class Session {
  #raw;
  #handle;

  constructor(raw, handle) {
    this.#raw = raw;
    this.#handle = handle;
    /** Resolves with {exitCode, reason, clean} when the session ends. */
    this.closed = raw.closed(handle);
  }

  #info() {
    return check(this.#raw.info(this.#handle));
  }

  get sessionId() {
    return this.#info().sessionId;
  }

  get customerMessage() {
    return this.#info().customerMessage;
  }

  get encrypted() {
    return this.#info().encrypted;
  }

  get sessionType() {
    return this.#info().sessionType;
  }

  get state() {
    return this.#info().state;
  }

  /** Sends a string (as UTF-8) or a Uint8Array as input. */
  sendText(data) {
    check(this.#raw.sendText(this.#handle, data));
  }

  /** Calls cb with each Output payload, a Uint8Array. */
  onData(cb) {
    return subscribeDeferred((fn) => this.#raw.onData(this.#handle, fn), cb);
  }

  /** Calls cb with each StdErr payload, a Uint8Array. */
  onStderr(cb) {
    return subscribeDeferred((fn) => this.#raw.onStderr(this.#handle, fn), cb);
  }

  /** Calls cb with {state, attempt, reason} on each state change. */
  onStateChange(cb) {
    return subscription(check(this.#raw.onState(this.#handle, cb)));
  }

  /** Requests a terminal size; quick successive requests are coalesced. */
  resize(cols, rows) {
    check(this.#raw.resize(this.#handle, cols, rows));
  }

  /** Ends the session; `closed` resolves when it has ended. */
  terminate() {
    check(this.#raw.terminate(this.#handle));
  }
}
