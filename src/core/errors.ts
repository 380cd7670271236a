/**
 * The one error class users catch from polysocket, with a stable `code`.
 *
 * Misuse of the API (a bad option, an invalid close code) throws a plain
 * `TypeError` instead, as the platform's own WebSocket does.
 */

/** Stable codes carried by {@link WebSocketError}; docs/contract.md lists them in one table. */
export type WebSocketErrorCode =
  /** `listen()` found its port taken by another server. */
  | "EADDRINUSE"
  /** `listen()` failed for another reason (permissions, unknown host, ...). */
  | "ERR_LISTEN"
  /** `listen()` was called on a server that is already listening or closed. */
  | "ERR_SERVER_STATE"
  /** A user hook threw or rejected; the original error is the `cause`. */
  | "ERR_HOOK"
  /** The runtime's socket reported an error; the original error is the `cause`. */
  | "ERR_SOCKET"
  /** The peer broke the WebSocket protocol (close 1002). */
  | "ERR_PROTOCOL"
  /** A text message was not valid UTF-8 (close 1007). */
  | "ERR_INVALID_DATA"
  /** A message was larger than `maxPayload` (close 1009). */
  | "ERR_PAYLOAD_TOO_LARGE"
  /** A message came in more fragments than the Node adapter holds (close 1008; Node only, docs/contract.md: `maxPayload`). */
  | "ERR_TOO_MANY_FRAGMENTS"
  /** A binary message arrived and there is no `onBinary` (close 1003). */
  | "ERR_UNSUPPORTED_DATA"
  /** The peer did not answer a ping within `heartbeat.timeout` (dropped, 1006). */
  | "ERR_HEARTBEAT_TIMEOUT"
  /** No message from the peer for `idleTimeout` (close 1000). */
  | "ERR_IDLE_TIMEOUT"
  /** The peer's unread buffer passed `backpressure.limit` (close 1013). */
  | "ERR_BACKPRESSURE"
  /** The peer sent more than `rateLimit` allows (close 1008). */
  | "ERR_RATE_LIMIT"
  /** The peer sent `maxInvalidMessages` invalid messages in a row (close 1008). */
  | "ERR_INVALID_MESSAGE";

/** An error raised by polysocket, with a stable {@link WebSocketErrorCode}. */
export class WebSocketError extends Error {
  /** Stable machine-readable code, safe to switch on. */
  readonly code: WebSocketErrorCode;
  /** The WebSocket close status this error closed a connection with, where it applies. */
  readonly status: number | undefined;

  /**
   * Creates an error with a stable `code`.
   * @param code stable code of the error
   * @param message human-readable description
   * @param options the close status and the underlying error, if any
   */
  constructor(code: WebSocketErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.name = "WebSocketError";
    this.code = code;
    this.status = options?.status;
  }
}

/** Maps a runtime's listen failure to the same error on every runtime. */
export function listenError(error: unknown, hostname: string, port: number): WebSocketError {
  const where = `${hostname}:${port}`;
  const e = error as { code?: unknown; name?: unknown } | null;
  if (e?.code === "EADDRINUSE" || e?.name === "AddrInUse") {
    return new WebSocketError("EADDRINUSE", `address already in use: ${where}`, { cause: error });
  }
  return new WebSocketError("ERR_LISTEN", `cannot listen on ${where}: ${String(error)}`, {
    cause: error,
  });
}

/** A policy close: the error carried in `onDisconnect`'s info, with its close code and reason. */
export function policyError(code: WebSocketErrorCode, status: number, reason: string): WebSocketError {
  return new WebSocketError(code, reason, { status });
}
