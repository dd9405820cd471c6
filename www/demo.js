// demo.js runs the demo page: xterm.js terminals connected through ssm.js,
// by default to sessions of the local emulator that serves the page.
//
// Query parameters, for trying the client against the emulator's faults:
//   ?faults=<JSON array>   passed as "faults" in POST /v1/sessions, e.g.
//                          ?faults=[{"kind":"close-socket","after":20}]
//   ?type=<sessionType>    Standard_Stream (default), InteractiveCommands, ...
//   ?command=<text>        the command of an InteractiveCommands session
//   ?kms=0                 start the session without KMS encryption
//   ?autoconnect=0         do not connect on load
//
// window.ssmDemo exposes the open terminals to end-to-end tests.

import { Terminal } from "./xterm/xterm.mjs";
import { FitAddon } from "./xterm/addon-fit.mjs";
import { load } from "./ssm.js";

// resizeInterval is the least time between two resize requests to a
// session while the window is being resized.
const resizeInterval = 250;

const params = new URLSearchParams(location.search);
const terminals = [];
window.ssmDemo = { terminals, ready: false };

const clientPromise = load();

clientPromise.then(
  () => setText("load-status", ""),
  (err) => setText("load-status", `ssm.wasm failed to load: ${err.message}`),
);

document.getElementById("connect-emulator").addEventListener("click", () => {
  openEmulatorTerminal();
});
document.getElementById("second-terminal").addEventListener("click", () => {
  openEmulatorTerminal();
});
document.getElementById("manual-form").addEventListener("submit", (event) => {
  event.preventDefault();
  openManualTerminal(new FormData(event.target));
});

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

// emulatorRequest returns the body of POST /v1/sessions from the page's
// query parameters and the KMS checkbox.
function emulatorRequest() {
  const kmsBox = document.getElementById("emulator-kms");
  const request = {
    sessionType: params.get("type") || "Standard_Stream",
    kms: params.has("kms") ? params.get("kms") !== "0" : kmsBox.checked,
  };
  if (params.has("command")) {
    request.command = params.get("command");
  }
  if (params.has("faults")) {
    request.faults = JSON.parse(params.get("faults"));
  }
  return request;
}

async function postJSON(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const text = await response.text();
    throw new Error(`POST ${path} failed with HTTP ${response.status}: ${text}`);
  }
  return response.json();
}

async function openEmulatorTerminal() {
  const panel = new TerminalPanel("emulator");
  try {
    const request = emulatorRequest();
    const info = await postJSON("/v1/sessions", request);
    const options = {
      streamUrl: info.StreamUrl,
      tokenValue: info.TokenValue,
      sessionId: info.SessionId,
      targetId: info.Target,
      resume: async () => {
        const r = await postJSON(`/v1/sessions/${info.SessionId}/resume`, {});
        return { streamUrl: r.StreamUrl, tokenValue: r.TokenValue };
      },
    };
    if (request.kms) {
      options.kms = {
        region: info.Kms.Region,
        endpoint: info.Kms.Endpoint,
        credentials: {
          accessKeyId: info.Kms.AccessKeyId,
          secretAccessKey: info.Kms.SecretAccessKey,
        },
      };
    }
    // A shell ends on the agent only through the service's
    // TerminateSession, which the emulator offers at this path.
    panel.onClose = () => postJSON(`/v1/sessions/${info.SessionId}/terminate`, {});
    await panel.start(options);
  } catch (err) {
    panel.fail(err);
  }
}

async function openManualTerminal(form) {
  const panel = new TerminalPanel(form.get("sessionId"));
  const options = {
    streamUrl: form.get("streamUrl"),
    tokenValue: form.get("tokenValue"),
    sessionId: form.get("sessionId"),
    targetId: form.get("targetId") || undefined,
    requireEncryption: form.get("requireEncryption") === "on",
  };
  if (form.get("region")) {
    options.kms = {
      region: form.get("region"),
      endpoint: form.get("endpoint") || undefined,
      credentials: {
        accessKeyId: form.get("accessKeyId"),
        secretAccessKey: form.get("secretAccessKey"),
        sessionToken: form.get("sessionToken") || undefined,
      },
    };
  }
  try {
    await panel.start(options);
  } catch (err) {
    panel.fail(err);
  }
}

// TerminalPanel is one xterm.js terminal with its status line and session.
class TerminalPanel {
  constructor(title) {
    this.session = null;
    this.onClose = null; // optional () => Promise, set before start
    this.state = "connecting";
    this.states = []; // every state change, for tests
    this.result = null;

    this.element = document.createElement("section");
    this.element.className = "terminal-panel";
    const heading = document.createElement("div");
    heading.className = "panel-heading";
    this.titleElement = document.createElement("span");
    this.titleElement.className = "panel-title";
    this.titleElement.textContent = title;
    this.statusElement = document.createElement("span");
    this.statusElement.className = "status";
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", () => this.close());
    heading.append(this.titleElement, this.statusElement, close);
    this.screen = document.createElement("div");
    this.screen.className = "screen";
    this.element.append(heading, this.screen);
    document.getElementById("terminals").append(this.element);

    this.term = new Terminal({ cursorBlink: true, scrollback: 5000 });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.screen);
    this.fit.fit();
    new ResizeObserver(() => this.fit.fit()).observe(this.screen);

    terminals.push(this);
    this.setStatus("connecting");
  }

  // start opens the session and connects it to the terminal.
  async start(options) {
    const ssm = await clientPromise;
    this.session = await ssm.startSession({
      ...options,
      cols: this.term.cols,
      rows: this.term.rows,
      logLevel: "info",
      onStateChange: (change) => this.onState(change),
    });
    this.titleElement.textContent = this.session.sessionId || "session";
    this.session.onData((bytes) => this.term.write(bytes));
    this.session.onStderr((bytes) => this.term.write(bytes));
    this.term.onData((text) => this.send(text));
    this.term.onBinary((text) => this.send(binaryString(text)));
    this.term.onResize(({ cols, rows }) => this.requestResize(cols, rows));
    this.onState({ state: this.session.state, attempt: 0, reason: "" });
    this.term.focus();

    this.result = await this.session.closed;
    this.onClosed(this.result);
  }

  // close ends the session by closing the data channel, and also through
  // onClose when the page has a TerminateSession endpoint.
  close() {
    this.onClose?.().catch((err) => console.warn("terminate request failed:", err));
    if (this.session && this.session.state !== "closed") {
      this.session.terminate();
    }
  }

  send(data) {
    if (this.session.state !== "closed") {
      this.session.sendText(data);
    }
  }

  // requestResize sends at most one resize per resizeInterval, and the
  // last size once the interval ends.
  requestResize(cols, rows) {
    this.pendingSize = { cols, rows };
    if (this.resizeTimer) {
      return;
    }
    const flush = () => {
      this.resizeTimer = null;
      const size = this.pendingSize;
      if (!size || this.session.state === "closed") {
        return;
      }
      this.pendingSize = null;
      this.session.resize(size.cols, size.rows);
      this.resizeTimer = setTimeout(flush, resizeInterval);
    };
    flush();
  }

  onState({ state, attempt, reason }) {
    this.state = state;
    this.states.push(state);
    let text = state;
    if (state === "reconnecting") {
      text = `reconnecting (attempt ${attempt})${reason ? `: ${reason}` : ""}`;
    } else if (state === "open" && this.session) {
      const parts = ["open"];
      parts.push(this.session.encrypted ? "encrypted with KMS" : "not encrypted");
      if (this.session.customerMessage) {
        parts.push(this.session.customerMessage);
      }
      text = parts.join(" · ");
    }
    if (state !== "closed") {
      this.setStatus(text);
    }
  }

  // onClosed shows how the session ended, in the status line and, as the
  // session-manager-plugin prints it, at the end of the terminal. Shell
  // sessions report no exit code: only NonInteractiveCommands sends one.
  onClosed({ exitCode, reason, clean }) {
    const parts = [clean ? "closed" : "failed"];
    if (exitCode !== null) {
      parts.push(`exit code ${exitCode}`);
    }
    parts.push(reason || (clean ? "the session ended" : "no reason given"));
    this.state = "closed";
    this.setStatus(parts.join(" · "));
    this.term.write(`\r\n\x1b[2m[${parts.join(" · ")}]\x1b[0m\r\n`);
  }

  fail(err) {
    this.state = "closed";
    this.result = { exitCode: null, reason: err.message, clean: false };
    this.setStatus(`${err.name}: ${err.message}`);
  }

  setStatus(text) {
    this.statusElement.textContent = text;
    this.statusElement.dataset.state = this.state;
  }

  // text returns the lines of the terminal buffer, scrollback included,
  // for tests.
  text() {
    const buffer = this.term.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) {
      lines.push(buffer.getLine(i).translateToString(true));
    }
    return lines.join("\n");
  }

  status() {
    return this.statusElement.textContent;
  }
}

// binaryString converts the Latin-1 string of xterm's onBinary event to
// bytes, one per character.
function binaryString(text) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    bytes[i] = text.charCodeAt(i) & 0xff;
  }
  return bytes;
}

if (params.get("autoconnect") !== "0") {
  openEmulatorTerminal();
}
window.ssmDemo.ready = true;
