/** Options of `connect`, their defaults, and their validation. */
import { describe, rejectUnknown } from "../core/validate.ts";
import { type ClientTlsOptions, HANDSHAKE_OPTIONS, type Handshake, resolveHandshake } from "./handshake.ts";
import type { OverflowPolicy } from "./send-queue.ts";

/** Options of {@link connect}; every one is optional. */
export interface ClientOptions {
  /**
   * polysocket's resumable protocol (sequence numbers, replay, heartbeat).
   * `"auto"` (the default): open on any WebSocket server and send plain text;
   * if the server's first frame is a room's `welcome`, speak the protocol from
   * then on (a `welcome` event follows `open`). `true`: speak it from the start
   * and open only once a room welcomes the client. `false`: never offer it.
   */
  resume?: boolean | "auto";
  /** Upper bound of the first reconnect delay, in ms. Default 500. */
  minDelay?: number;
  /** Largest reconnect delay, in ms. Default 30000. */
  maxDelay?: number;
  /** Growth of the delay bound per failed attempt. Default 2. */
  factor?: number;
  /** Reconnect attempts after a failure before giving up for good. Default `Infinity`. */
  maxRetries?: number;
  /** Abandon a connection attempt not open (and welcomed) after this many ms. Default 10000. */
  connectTimeout?: number;
  /** Send a ping after this many ms of connection, and then again after every answer; 0 disables. Default 15000. */
  heartbeatInterval?: number;
  /** Reconnect when a ping gets no answer (nor any other frame) within this many ms. Default 5000. */
  heartbeatTimeout?: number;
  /** Messages kept while disconnected. Default 100. */
  maxQueued?: number;
  /** What to drop when the queue is full. Default `"drop-newest"` (`send` returns "dropped"). */
  overflow?: OverflowPolicy;
  /**
   * Subprotocols to offer (`Sec-WebSocket-Protocol`), in order of preference;
   * `client.protocol` is the one the server chose. Default: none offered. A server
   * must then choose one: a client that offers subprotocols fails the handshake
   * when the server selects none (and retries, as after any failed connection).
   */
  protocols?: string | string[];
  /**
   * Extra headers of the upgrade request (e.g. `Authorization`). Node, Bun and
   * Deno send them; a browser cannot, so there they are a `TypeError`.
   */
  headers?: Record<string, string>;
  /** TLS trust for `wss://`: a CA to trust, or `rejectUnauthorized: false`, where the runtime allows it. */
  tls?: ClientTlsOptions;
}

/** The options of {@link ClientOptions} that have a default: all but the handshake's. */
export type ClientTuningOptions = Omit<ClientOptions, "protocols" | "headers" | "tls">;

/** Options with every default applied, and the handshake options checked. */
export type ResolvedClientOptions = Required<ClientTuningOptions> & Handshake;

/** The defaults of {@link ClientOptions} (the handshake options default to none). */
export const CLIENT_DEFAULTS: Readonly<Required<ClientTuningOptions>> = Object.freeze({
  resume: "auto",
  minDelay: 500,
  maxDelay: 30_000,
  factor: 2,
  maxRetries: Number.POSITIVE_INFINITY,
  connectTimeout: 10_000,
  heartbeatInterval: 15_000,
  heartbeatTimeout: 5_000,
  maxQueued: 100,
  overflow: "drop-newest",
});

const NUMBERS = [
  "minDelay",
  "maxDelay",
  "maxRetries",
  "connectTimeout",
  "heartbeatInterval",
  "heartbeatTimeout",
  "maxQueued",
] as const;

/** Applies defaults and validates; throws `TypeError` naming the first bad option. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  rejectUnknown(options, [...Object.keys(CLIENT_DEFAULTS), ...HANDSHAKE_OPTIONS]);
  const resolved = { ...CLIENT_DEFAULTS, ...withoutUndefined(options) };
  if (resolved.resume !== true && resolved.resume !== false && resolved.resume !== "auto") {
    throw new TypeError(`options.resume must be true, false or "auto", got ${describe(resolved.resume)}`);
  }
  for (const name of NUMBERS) {
    const value = resolved[name];
    if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
      throw new TypeError(`options.${name} must be a number >= 0, got ${describe(value)}`);
    }
  }
  if (typeof resolved.factor !== "number" || !(resolved.factor >= 1)) {
    throw new TypeError(`options.factor must be a number >= 1, got ${describe(resolved.factor)}`);
  }
  if (resolved.overflow !== "drop-newest" && resolved.overflow !== "drop-oldest") {
    throw new TypeError(
      `options.overflow must be "drop-newest" or "drop-oldest", got ${describe(resolved.overflow)}`,
    );
  }
  return { ...resolved, ...resolveHandshake(options) };
}

function withoutUndefined(options: ClientOptions): ClientOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** A ws: or wss: URL from `url`; http(s) is mapped, a relative URL resolves against the page. */
export function socketUrl(url: string | URL): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const target = new URL(url, base);
  if (target.protocol === "http:") target.protocol = "ws:";
  if (target.protocol === "https:") target.protocol = "wss:";
  if (target.protocol !== "ws:" && target.protocol !== "wss:") {
    throw new TypeError(`url must be a ws:, wss:, http: or https: URL, got ${JSON.stringify(String(url))}`);
  }
  return target.href;
}
