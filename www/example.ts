// example.ts shows the API of ssm.js in use and is type-checked by
// `npm run typecheck` (tsc --noEmit) against ssm.d.ts; it is not shipped.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { load, type DataKeyRequest, type SessionResult } from "./ssm.js";

declare function backendDataKey(req: DataKeyRequest): Promise<{
  plaintext: Uint8Array;
  ciphertextBlob: Uint8Array;
}>;
// The output of SSM StartSession, fetched from the page's backend.
declare const started: { SessionId: string; StreamUrl: string; TokenValue: string };
declare function backendResume(sessionId: string): Promise<{
  streamUrl: string;
  tokenValue: string;
}>;

export async function connect(element: HTMLElement): Promise<SessionResult> {
  const term = new Terminal();
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(element);
  fit.fit();

  const ssm = await load({ wasmUrl: "./ssm.wasm" });
  const session = await ssm.startSession({
    streamUrl: started.StreamUrl,
    tokenValue: started.TokenValue,
    sessionId: started.SessionId,
    targetId: "i-0123456789abcdef0",
    cols: term.cols,
    rows: term.rows,
    requireEncryption: true,
    logLevel: "info",
    kms: { generateDataKey: backendDataKey },
    resume: () => backendResume(started.SessionId),
    resumeBudgetMs: 60_000,
    onStateChange: ({ state }) => console.log("state", state),
  });

  const data = session.onData((bytes: Uint8Array) => term.write(bytes));
  session.onStderr((bytes) => term.write(bytes));
  session.onStateChange(({ state, attempt, reason }) => {
    console.log(state, attempt, reason, session.state);
  });
  term.onData((text) => session.sendText(text));
  term.onResize(({ cols, rows }) => session.resize(cols, rows));
  console.log(session.sessionId, session.customerMessage, session.encrypted,
    session.sessionType);

  const sdk = await ssm.startSession({
    streamUrl: started.StreamUrl,
    tokenValue: started.TokenValue,
    kms: {
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4599",
      credentials: { accessKeyId: "a", secretAccessKey: "s" },
    },
  });
  sdk.sendText(new Uint8Array([3]));
  sdk.terminate();

  const result = await session.closed;
  data.dispose();
  const code: number | null = result.exitCode;
  console.log(code, result.reason, result.clean);
  return result;
}
