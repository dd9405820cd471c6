// Type declarations of ssm.js and of the global namespace globalThis.ssm
// that ssm.wasm installs.

/** The URLs that load() fetches. Relative URLs resolve against the page. */
export interface LoadOptions {
  /** URL of ssm.wasm; default: next to ssm.js. */
  wasmUrl?: string | URL;
  /** URL of Go's wasm_exec.js; default: next to ssm.js. */
  wasmExecUrl?: string | URL;
}

/** Loads wasm_exec.js and ssm.wasm once; later calls return the same API. */
export function load(options?: LoadOptions): Promise<Client>;

/** The input of KMS GenerateDataKey for a session. */
export interface DataKeyRequest {
  keyId: string;
  encryptionContext: Record<string, string>;
  /** Always 64: two AES-256 keys, one for each direction. */
  numberOfBytes: number;
}

/** The output of KMS GenerateDataKey. */
export interface DataKey {
  plaintext: Uint8Array | ArrayBuffer;
  ciphertextBlob: Uint8Array | ArrayBuffer;
}

/** Static AWS credentials for the built-in KMS client. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The built-in AWS SDK KMS client, which calls KMS from the page. */
export interface SdkKmsOptions {
  region: string;
  /** KMS endpoint URL; default: the AWS endpoint of the region. */
  endpoint?: string;
  credentials: AwsCredentials;
}

/** A page's own GenerateDataKey, for example a call to its backend. */
export interface CallbackKmsOptions {
  generateDataKey(request: DataKeyRequest): Promise<DataKey> | DataKey;
}

/** The output of SSM ResumeSession. An empty tokenValue ends the session. */
export interface ResumeResult {
  /** Empty or missing keeps the previous StreamUrl. */
  streamUrl?: string;
  tokenValue: string;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

export interface SessionOptions {
  /** StreamUrl from SSM StartSession or ECS ExecuteCommand. */
  streamUrl: string;
  /** TokenValue from SSM StartSession or ECS ExecuteCommand. */
  tokenValue: string;
  sessionId?: string;
  /** The target instance id, part of the KMS encryption context. */
  targetId?: string;
  /** Initial terminal size, 0 to 65535; 0 sends no size until resize(). */
  cols?: number;
  rows?: number;
  /** Reject a session whose agent does not ask for KMS encryption. */
  requireEncryption?: boolean;
  /** Console log level; default "warn". */
  logLevel?: LogLevel;
  kms?: SdkKmsOptions | CallbackKmsOptions;
  /**
   * Called after the socket drops to get a new token, normally from SSM
   * ResumeSession. Without it the session ends at the first drop.
   */
  resume?: () => Promise<ResumeResult>;
  /** Time allowed for reconnecting after one drop; default 120000. */
  resumeBudgetMs?: number;
  /** Receives state changes from the start, before startSession resolves. */
  onStateChange?: (change: StateChange) => void;
}

export type SessionState =
  | "connecting"
  | "handshaking"
  | "open"
  | "reconnecting"
  | "closed";

export interface StateChange {
  state: SessionState;
  /** The reconnect attempt, from 1, in the "reconnecting" state; else 0. */
  attempt: number;
  /** The cause of the drop or of the close, or an empty string. */
  reason: string;
}

/** The outcome of a session. */
export interface SessionResult {
  /** The command's exit code, when the agent sent one. */
  exitCode: number | null;
  /** The agent's closing message, or why the session failed. */
  reason: string;
  /** True when the service or the page closed the session. */
  clean: boolean;
}

export interface Disposable {
  dispose(): void;
}

/** The names of the errors that startSession rejects with. */
export type SessionErrorName =
  | "OpenError"
  | "HandshakeError"
  | "KMSError"
  | "ChallengeError"
  | "ClosedError";

export interface Client {
  /** The raw namespace that ssm.wasm installs as globalThis.ssm. */
  readonly raw: RawApi;
  /**
   * Opens a session. Rejects with a TypeError for invalid options, or with
   * an Error whose name is a SessionErrorName.
   */
  startSession(options: SessionOptions): Promise<Session>;
}

export class Session {
  private constructor();
  readonly sessionId: string;
  /** The CustomerMessage of the agent's HandshakeComplete, often empty. */
  readonly customerMessage: string;
  readonly encrypted: boolean;
  readonly sessionType: string;
  readonly state: SessionState;
  readonly closed: Promise<SessionResult>;
  /** Sends input; throws a TypeError when the session has ended. */
  sendText(data: string | Uint8Array): void;
  onData(cb: (data: Uint8Array) => void): Disposable;
  onStderr(cb: (data: Uint8Array) => void): Disposable;
  onStateChange(cb: (change: StateChange) => void): Disposable;
  /** Requests a size of 1 to 65535 columns and rows. */
  resize(cols: number, rows: number): void;
  terminate(): void;
}

/** An opaque session handle of the raw namespace. */
export type Handle = number;

/** Properties of a session, returned by RawApi.info. */
export interface SessionInfo {
  sessionId: string;
  customerMessage?: string;
  encrypted?: boolean;
  sessionType?: string;
  state: SessionState;
}

/**
 * The raw namespace. Its synchronous functions return a TypeError instead
 * of throwing it, because Go cannot throw into its caller.
 */
export interface RawApi {
  startSession(options: SessionOptions): Promise<Handle>;
  sendText(handle: Handle, data: string | Uint8Array): TypeError | undefined;
  onData(handle: Handle, cb: (data: Uint8Array) => void): (() => void) | TypeError;
  onStderr(handle: Handle, cb: (data: Uint8Array) => void): (() => void) | TypeError;
  onState(handle: Handle, cb: (change: StateChange) => void): (() => void) | TypeError;
  resize(handle: Handle, cols: number, rows: number): TypeError | undefined;
  terminate(handle: Handle): TypeError | undefined;
  closed(handle: Handle): Promise<SessionResult>;
  info(handle: Handle): SessionInfo | TypeError;
}

declare global {
  // eslint-disable-next-line no-var
  var ssm: RawApi | undefined;
}
