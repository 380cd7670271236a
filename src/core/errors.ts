/**
 * The one error class users catch from polysocket, with a stable `code`.
 *
 * Misuse of the API (a bad option, an invalid close code) throws a plain
 * `TypeError` instead, as the platform's own WebSocket does.
 */

/** Stable codes carried by {@link WebSocketError}; the README lists them in one table. */
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
  | "ERR_SOCKET";

/** An error raised by polysocket, with a stable {@link WebSocketErrorCode}. */
export class WebSocketError extends Error {
  /** Stable machine-readable code, safe to switch on. */
  readonly code: WebSocketErrorCode;

  /**
   * Creates an error with a stable `code`.
   * @param code stable code of the error
   * @param message human-readable description
   * @param options the underlying error, if any
   */
  constructor(code: WebSocketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WebSocketError";
    this.code = code;
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
