/**
 * polysocket/client: a WebSocket client for browsers, Node (20+), Bun and Deno
 * that reconnects with jittered backoff, queues while disconnected, notices a
 * silent server, and resumes a polysocket `ChatRoom`, or any number of rooms of
 * a `Rooms` server, without losing or repeating a message.
 *
 * @example
 * ```ts
 * import { connect } from "polysocket/client";
 * const client = connect("ws://localhost:8080/chat", { maxQueued: 50 });
 * client.on("message", ({ data }) => console.log(data));
 * client.on("reconnecting", ({ attempt, delay }) => console.log(`retry #${attempt} in ${delay} ms`));
 * client.on("gap", (gap) => console.warn("missed messages", gap));
 * client.send("hello");
 *
 * // A `Rooms` server: many rooms on one connection, each resumed on its own.
 * const lobby = client.join("lobby");
 * lobby.on("message", ({ data, seq }) => console.log(seq, data));
 * lobby.publish({ text: "hi" });
 * const seq = await lobby.publish("stored?", { timeout: 5000 }); // its number, once stored
 * const answer = await client.request({ op: "time" }); // the server's `respond` handler
 * ```
 * @module
 */

export type { JsonValue, RoomData } from "../core/rooms/store.ts";
export {
  type BackoffOptions,
  backoffCap,
  backoffDelay,
  type CloseDecision,
  closeDecision,
} from "./backoff.ts";
export { Client, type ClientState, connect, REQUEST_TIMEOUT, type RequestOptions } from "./client.ts";
export type { ClientEvents, GapEvent, Listener } from "./events.ts";
export type { ClientTlsOptions, Handshake } from "./handshake.ts";
export {
  CLIENT_DEFAULTS,
  type ClientOptions,
  type ClientTuningOptions,
  type ResolvedClientOptions,
} from "./options.ts";
export {
  PublishError,
  type PublishErrorCode,
  RequestError,
  type RequestErrorCode,
} from "./pending.ts";
export { ClientRoom, type ClientRoomState, type PublishOptions, type RoomEvents } from "./room.ts";
export type { OverflowPolicy, SendResult } from "./send-queue.ts";
