/**
 * What a runtime's socket error means. Runtimes close a connection on a
 * protocol violation themselves, but report it differently: `ws` emits an
 * error, Bun passes a reason with 1006, Deno fires an error event and drops
 * the TCP connection. Classifying their texts here gives `onDisconnect` the
 * same close code and error on every runtime.
 */
import type { WebSocketErrorCode } from "./errors.ts";

/** A socket error, classified. */
export type SocketFailure =
  | { kind: "protocol"; status: number; code: WebSocketErrorCode }
  /** The peer went away (EOF, reset): a normal 1006, not an error. */
  | { kind: "vanished" }
  | { kind: "other" };

const RULES: readonly [RegExp, SocketFailure][] = [
  [/utf-?8/i, { kind: "protocol", status: 1007, code: "ERR_INVALID_DATA" }],
  [/payload size|too (big|large)/i, { kind: "protocol", status: 1009, code: "ERR_PAYLOAD_TOO_LARGE" }],
  [
    /invalid websocket frame|mask|fragmented|reserved bits|rsv\d|opcode|control frame|fin must/i,
    { kind: "protocol", status: 1002, code: "ERR_PROTOCOL" },
  ],
  [/unexpected eof|econnreset|connection reset|broken pipe/i, { kind: "vanished" }],
];

/** Classifies a runtime's socket error text. */
export function classifySocketError(text: string): SocketFailure {
  return RULES.find(([pattern]) => pattern.test(text))?.[1] ?? { kind: "other" };
}
