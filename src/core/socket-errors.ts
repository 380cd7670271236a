/**
 * What a runtime's socket error means. Runtimes close a connection on a
 * protocol violation themselves, but report it differently: `ws` emits an
 * error with a code of its own and the close status it sent, Bun reports
 * 1006 with a fixed reason (after sending a close frame with the real code),
 * Deno fires an error event with a fixed message (and mostly drops the TCP
 * connection without a close frame). Each runtime's own vocabulary is mapped
 * here, exactly, so `onDisconnect` gets the code that went over the wire (or,
 * where none did, the one the violation maps to) on every runtime.
 */
import type { WebSocketErrorCode } from "./errors.ts";

/** A socket error, classified. */
export type SocketFailure =
  /**
   * The runtime closed the connection for a protocol violation with `status`;
   * `closeFrame` false: it dropped the TCP connection without a close frame.
   */
  | { kind: "protocol"; status: number; code: WebSocketErrorCode; closeFrame: boolean }
  /** The peer went away (EOF, reset): a normal 1006, not an error. */
  | { kind: "vanished" }
  | { kind: "other" };

/** `ws` (and Deno's `node:net`) socket error codes of a peer that went away. */
const VANISHED_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/**
 * Bun's reasons (uWebSockets' fixed texts) for the closes it makes itself; Bun
 * sends each in a close frame with this status, and reports 1006 to `close`.
 */
const BUN_REASONS: ReadonlyMap<string, number> = new Map([
  ["Received an incorrectly masked frame", 1002],
  ["Received continuation frame outside a fragmented message", 1002],
  ["Received new message inside a fragmented message", 1002],
  ["Received fragmented control frame", 1002],
  ["Received too big control frame", 1002],
  ["Received invalid opcode", 1002],
  ["Received unexpected RSV1 bit", 1002],
  ["Received unexpected RSV2 or RSV3 bit", 1002],
  ["Received invalid close code", 1002],
  ["Received invalid close payload", 1002],
  ["Received invalid UTF-8", 1007],
  ["Received invalid compressed data", 1007],
  ["Received too big message", 1009],
]);

/**
 * Deno's error messages (the `fastwebsockets` errors' texts) and what they map
 * to. Only an invalid close code is answered with a close frame (1002); on the
 * others Deno drops the TCP connection unannounced.
 */
const DENO_MESSAGES: ReadonlyMap<string, { status: number; closeFrame: boolean }> = new Map([
  ["Invalid close code", { status: 1002, closeFrame: true }],
  ["Invalid close frame", { status: 1002, closeFrame: false }],
  ["Invalid continuation frame", { status: 1002, closeFrame: false }],
  ["Invalid fragment", { status: 1002, closeFrame: false }],
  ["Invalid value", { status: 1002, closeFrame: false }], // an unknown opcode
  ["Reserved bits are not zero", { status: 1002, closeFrame: false }],
  ["Control frame must not be fragmented", { status: 1002, closeFrame: false }],
  ["Ping frame too large", { status: 1002, closeFrame: false }],
  ["Invalid UTF-8", { status: 1007, closeFrame: false }],
  ["Frame too large", { status: 1009, closeFrame: false }],
]);

/** Deno's messages for a peer that went away (its own EOF, and the OS errors it passes on). */
const DENO_VANISHED: ReadonlySet<string> = new Set([
  "Unexpected EOF",
  "Connection reset by peer (os error 104)",
  "Broken pipe (os error 32)",
]);

/** Classifies a runtime's socket error by the runtime's own code or fixed text. */
export function classifySocketError(error: unknown): SocketFailure {
  if (typeof error !== "object" || error === null) return { kind: "other" };
  // `ws`'s errors (its WS_ERR_* codes, and zlib's for bad compressed data) carry the status it closed with.
  const status = wsStatus(error);
  if (status !== undefined) return protocol(status, true);
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return VANISHED_CODES.has(code) ? { kind: "vanished" } : { kind: "other" };
  const text = error instanceof Error ? error.message : "";
  const bun = BUN_REASONS.get(text);
  if (bun) return protocol(bun, true);
  const deno = DENO_MESSAGES.get(text);
  if (deno) return protocol(deno.status, deno.closeFrame);
  return DENO_VANISHED.has(text) ? { kind: "vanished" } : { kind: "other" };
}

/**
 * The close status `ws` sent, which it keeps on the error under its `kStatusCode`
 * symbol (`Symbol("status-code")`; the package does not export it).
 */
function wsStatus(error: object): number | undefined {
  for (const key of Object.getOwnPropertySymbols(error)) {
    const value = (error as Record<symbol, unknown>)[key];
    if (key.description === "status-code" && typeof value === "number") return value;
  }
  return undefined;
}

function protocol(status: number, closeFrame: boolean): SocketFailure {
  return { kind: "protocol", status, code: errorCodeFor(status), closeFrame };
}

/** polysocket's code for a runtime's protocol close status. */
function errorCodeFor(status: number): WebSocketErrorCode {
  if (status === 1007) return "ERR_INVALID_DATA";
  if (status === 1009) return "ERR_PAYLOAD_TOO_LARGE";
  if (status === 1008) return "ERR_TOO_MANY_FRAGMENTS"; // only `ws` closes with it: its fragment cap
  return "ERR_PROTOCOL";
}
