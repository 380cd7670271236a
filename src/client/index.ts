/**
 * polysocket/client: a WebSocket client for browsers, Node (20+), Bun and Deno
 * that reconnects with jittered backoff, queues while disconnected, notices a
 * silent server, and resumes a polysocket `ChatRoom` without losing or
 * repeating a message.
 *
 * @example
 * ```ts
 * import { connect } from "polysocket/client";
 * const client = connect("ws://localhost:8080/chat", { maxQueued: 50 });
 * client.on("message", ({ data }) => console.log(data));
 * client.on("reconnecting", ({ attempt, delay }) => console.log(`retry #${attempt} in ${delay} ms`));
 * client.on("gap", (gap) => console.warn("missed messages", gap));
 * client.send("hello");
 * ```
 * @module
 */

export {
  type BackoffOptions,
  backoffCap,
  backoffDelay,
  type CloseDecision,
  closeDecision,
} from "./backoff.ts";
export { Client, type ClientState, connect } from "./client.ts";
export type { ClientEvents, GapEvent, Listener } from "./events.ts";
export type { ClientTlsOptions, Handshake } from "./handshake.ts";
export {
  CLIENT_DEFAULTS,
  type ClientOptions,
  type ClientTuningOptions,
  type ResolvedClientOptions,
} from "./options.ts";
export type { OverflowPolicy, SendResult } from "./send-queue.ts";
