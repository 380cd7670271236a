/**
 * The observation seam: what a server (and, later, a room store) tells a
 * metrics backend. The core only calls these methods; `polysocket/metrics`
 * turns them into Prometheus or OpenTelemetry instruments. A server without
 * the `metrics` option pays one `undefined` check at each call site.
 */
import { describe, rejectUnknown } from "./validate.ts";

/**
 * Why something was refused: an upgrade (`origin` … `rejected`) or an incoming
 * message (`payload_too_large` … `binary_unsupported`). An upgrade to another
 * path is a 404 like any unknown URL (on Node and mounted servers the server
 * never sees it), not a refusal.
 */
export type RefusalReason =
  /** An origin `allowedOrigins` does not allow (403). */
  | "origin"
  /** The server is shutting down (503, or 1001 once the handshake finished). */
  | "shutting_down"
  /** `maxConnections` reached (503, or 1013 once the handshake finished). */
  | "capacity"
  /** `onUpgrade` refused (its status or `closeCode`), threw or chose an unoffered subprotocol. */
  | "rejected"
  /** A message over `maxPayload` (closed with 1009). */
  | "payload_too_large"
  /** A message over `rateLimit` (closed with 1008). */
  | "rate_limit"
  /** A message `validate` refused (each one; the close after `maxInvalidMessages` is a 1008). */
  | "invalid_message"
  /** A binary message to a server without `onBinary` (closed with 1003). */
  | "binary_unsupported";

/**
 * Receives a server's events for metrics: pass one as the `metrics` option
 * (`polysocket/metrics` makes them for Prometheus and OpenTelemetry). Every
 * method is optional; a missing one is not called. Methods run synchronously
 * on the server's hot paths: count, never block or throw. Sizes are payload
 * bytes (UTF-8 for text) before any compression, frame headers not included.
 */
export interface MetricsObserver {
  /** A connection opened (after the handshake, before `onConnect`). */
  connectionOpened?(): void;
  /** A connection ended with `code`, as `onDisconnect` reports it (1006 when the peer vanished). */
  connectionClosed?(code: number): void;
  /** A message arrived: `bytes` of text (UTF-8) or binary, before `validate`. */
  messageReceived?(bytes: number): void;
  /** `conn.send` handed one message of `bytes` to a connection. */
  messageSent?(bytes: number): void;
  /**
   * One publish (`publish`, `broadcast`, a topic or room fan-out) handed a message
   * of `bytes` to `deliveries` connections: called once per publish, not per recipient.
   */
  published?(deliveries: number, bytes: number): void;
  /** An upgrade or a message was refused, for `reason`. */
  refused?(reason: RefusalReason): void;
  /** A message was not sent: the connection's buffer was over the limit under policy `"drop"`. */
  backpressureDropped?(): void;
  /** A connection was closed (1013) for a buffer over the limit under policy `"close"`. */
  backpressureClosed?(): void;
  /** A connection missed its pong and was dropped (1006). */
  heartbeatTimedOut?(): void;
  /** A connection subscribed to a topic; `first`: the topic had no subscriber before. */
  subscribed?(first: boolean): void;
  /** A connection left a topic (or ended); `last`: the topic has no subscriber now. */
  unsubscribed?(last: boolean): void;

  // Called by room stores (ChatRoom, polysocket/redis), not by the server itself.

  /** A room store opened a room (it now holds its history or stream reader). */
  roomOpened?(): void;
  /** A room store released a room. */
  roomReleased?(): void;
  /** A connection joined a room. */
  roomJoined?(): void;
  /** A connection left a room. */
  roomLeft?(): void;
  /** A store (Redis) acknowledged a published message after `seconds`. */
  storePublished?(seconds: number): void;
  /** A store's reader received an entry `seconds` after it was appended (reader lag). */
  storeRead?(seconds: number): void;
  /** A store's connection was lost and is being re-established. */
  storeReconnected?(): void;
}

/** Every method of {@link MetricsObserver}, in its order. */
export const OBSERVER_METHODS: readonly (keyof MetricsObserver)[] = [
  "connectionOpened",
  "connectionClosed",
  "messageReceived",
  "messageSent",
  "published",
  "refused",
  "backpressureDropped",
  "backpressureClosed",
  "heartbeatTimedOut",
  "subscribed",
  "unsubscribed",
  "roomOpened",
  "roomReleased",
  "roomJoined",
  "roomLeft",
  "storePublished",
  "storeRead",
  "storeReconnected",
];

/** An observer with every method present (no-ops for the missing), so call sites make one check. */
export type Observer = Required<MetricsObserver>;

const ignore = (): void => undefined;

/**
 * Validates the `metrics` option and fills in the methods it lacks. Throws
 * `TypeError` for a non-object, a method that is not a function, or an own
 * property that is no method name (a misspelt method would never be called).
 */
export function resolveObserver(value: unknown): Observer | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`options.metrics must be an object of observer methods, got ${describe(value)}`);
  }
  rejectUnknown(value, OBSERVER_METHODS, "options.metrics");
  const given = value as Record<string, unknown>;
  const observer: Record<string, unknown> = {};
  for (const name of OBSERVER_METHODS) {
    const method = given[name];
    if (method !== undefined && typeof method !== "function") {
      throw new TypeError(`options.metrics.${name} must be a function, got ${describe(method)}`);
    }
    observer[name] = method === undefined ? ignore : (method as () => void).bind(value);
  }
  return observer as Observer;
}

/** UTF-16 units sized per `encodeInto`: each encodes to at most 3 bytes, so the scratch never fills. */
const CHUNK = 16_384;
const encoder = new TextEncoder();
/** Where text is encoded to be sized (48 KiB, made on first use, only when metrics are on). */
let scratch: Uint8Array | undefined;

/**
 * UTF-8 size of a text message, exact (only when metrics are on): the runtime's
 * own encoder, 16 Ki units at a time (8-30x faster than a JS loop on 1 MiB of
 * ASCII, measured on Node, Bun and Deno). A lone surrogate counts 3 bytes, as
 * its U+FFFD replacement is sent; a pair is never split between chunks.
 */
export function utf8Length(text: string): number {
  scratch ??= new Uint8Array(CHUNK * 3);
  if (text.length <= CHUNK) return encoder.encodeInto(text, scratch).written;
  let bytes = 0;
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + CHUNK, text.length);
    if (end < text.length && isHigh(text.charCodeAt(end - 1))) end--;
    bytes += encoder.encodeInto(text.slice(at, end), scratch).written;
    at = end;
  }
  return bytes;
}

const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;

/** Payload bytes of a message: UTF-8 for text. */
export function messageBytes(message: string | Uint8Array): number {
  return typeof message === "string" ? utf8Length(message) : message.byteLength;
}
