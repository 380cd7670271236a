/**
 * Server options and hooks, their defaults, and their validation at construction time.
 */
import type { Connection } from "./connection.ts";
import type { WebSocketError } from "./errors.ts";
import { type MessageFormat, type MessageOf, resolveMessages } from "./json-messages.ts";
import type {
  BackpressureOptions,
  CompressionOptions,
  HeartbeatOptions,
  KeepHeaders,
  RateLimitOptions,
  Refusal,
  RequestHandler,
  TlsOptions,
  UpgradeRequest,
  UpgradeResult,
} from "./types.ts";

export type {
  BackpressureOptions,
  CompressionOptions,
  HeartbeatOptions,
  RateLimitOptions,
  Refusal,
  TlsOptions,
  UpgradeAccept,
  UpgradeReject,
  UpgradeResult,
} from "./types.ts";

import { type MetricsObserver, resolveObserver } from "./observer.ts";
import { type ResolvedTls, resolveTls } from "./tls.ts";
import { describe, rejectUnknown } from "./validate.ts";

export type { ResolvedTls };

export { describe };

/** Why and how a connection ended, as passed to `onDisconnect`. */
export interface CloseInfo {
  /** Close code: the one sent by whoever closed first, or 1006 when the peer vanished. */
  readonly code: number;
  /** Close reason text (may be empty). */
  readonly reason: string;
  /** Set when the server closed the connection for a policy (payload, heartbeat, rate, ...) or a protocol error. */
  readonly error?: WebSocketError;
  /**
   * Whether `code` went over the wire in a close frame (from either side). `false` for
   * 1006 (the peer vanished or was dropped), and when the runtime dropped the TCP
   * connection on a protocol error without a close frame (Deno's own WebSocket):
   * `code` is then what the violation maps to, and the client saw 1006.
   */
  readonly closeFrame: boolean;
}

/**
 * The user hooks of a server. Every hook may be async; errors go to `onError`.
 * `Data` is the type of `conn.data` (what `onUpgrade` attaches); `Message` the
 * type of the text messages `onMessage` and `validate` get (see {@link ServerOptions.messages}).
 */
export interface ServerHooks<Data = unknown, Message = string> {
  /**
   * Runs for each upgrade request before a connection exists: reject it, attach
   * `conn.data`, or choose a subprotocol. A throw or rejection answers 500.
   */
  // NoInfer: `Data` comes from the server's type arguments only, so that an
  // `onUpgrade` returning data never retypes `conn.data` in code written before generics.
  onUpgrade?: (
    request: UpgradeRequest,
  ) => UpgradeResult<NoInfer<Data>> | Promise<UpgradeResult<NoInfer<Data>>>;
  /** A client finished its handshake. Runs (and settles) before any `onMessage` of it. */
  onConnect?: (conn: Connection<Data>) => unknown;
  /**
   * A text message arrived (and passed `validate`): the string, or with
   * `messages` set, its parsed (and schema-checked) value.
   */
  onMessage?: (conn: Connection<Data>, message: Message) => unknown;
  /** A binary message arrived. Without this hook, binary messages close the connection with 1003. */
  onBinary?: (conn: Connection<Data>, data: Uint8Array) => unknown;
  /** A connection whose buffer went over half the backpressure limit has written everything. */
  onDrain?: (conn: Connection<Data>) => unknown;
  /** The connection is gone. Runs exactly once per connection, however it ended. */
  onDisconnect?: (conn: Connection<Data>, info: CloseInfo) => unknown;
  /** A hook threw, or a socket failed. Without it, errors are printed with `console.error`. */
  onError?: (error: Error, conn?: Connection<Data>) => void;
  /**
   * Checks a message before `onMessage`: return `true` to accept it, or a reason
   * (string) to refuse it. A refused message reaches nobody; the sender gets
   * `Invalid message: {reason}`, or the `reply` of a {@link Refusal}. With
   * `messages` set, it checks the parsed value (after the schema), and bytes as they came.
   */
  validate?: (conn: Connection<Data>, message: Message | Uint8Array) => true | string | Refusal;
}

/**
 * Options of a {@link BaseServer}. Every default is the same on every runtime.
 * `Data` types `conn.data`; `Format` is the type of {@link messages}, which
 * types the messages hooks get (inferred from the option when the server's
 * type arguments are not written).
 */
export interface ServerOptions<Data = unknown, Format = "text"> extends ServerHooks<Data, MessageOf<Format>> {
  /** TCP port, 0..65535. 0 (the default) picks a free port, readable after `listen()`. */
  port?: number;
  /** Interface to bind. Default `"0.0.0.0"`. */
  hostname?: string;
  /** The only path that accepts WebSocket upgrades. Default `"/"`. */
  path?: string;
  /** Largest message in bytes; a bigger one closes the connection with 1009. Default 1 MiB. */
  maxPayload?: number;
  /** Ping every `interval`, drop peers silent for `timeout` (1006). `false` turns it off. */
  heartbeat?: HeartbeatOptions | false;
  /** Milliseconds without a message from the client before closing it with 1000. Default 0 (off). */
  idleTimeout?: number;
  /** Milliseconds an HTTP request may take to send its headers. Default 10 000. */
  handshakeTimeout?: number;
  /** Open connections allowed; upgrades beyond get HTTP 503. Default unlimited. */
  maxConnections?: number;
  /** Per-connection write buffer policy. Default `{ limit: 4 MiB, policy: "close" }`. */
  backpressure?: BackpressureOptions;
  /**
   * permessage-deflate with clients that offer it: `true` for the defaults, or
   * {@link CompressionOptions}. Default `false` (off). Declined on Deno's own WebSocket.
   */
  compression?: boolean | CompressionOptions;
  /** Origins a browser may connect from (list or predicate); others get 403. Default: any. */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
  /** Messages allowed per connection and window; past it the connection is closed with 1008. */
  rateLimit?: RateLimitOptions | false;
  /** Consecutive invalid messages before the connection is closed with 1008. Default 5. */
  maxInvalidMessages?: number;
  /**
   * How text messages reach `validate` and `onMessage`: `"text"` (the default) as
   * strings; `"json"` parsed; a Standard Schema v1 schema (zod, valibot, arktype,
   * ...) parsed, then validated, hooks getting the schema's output. Malformed
   * JSON and values the schema refuses are invalid messages: the sender gets
   * `Invalid message: {reason}` and they count toward `maxInvalidMessages`.
   * Binary messages are not parsed: they go to `onBinary` as bytes. See docs/messages.md.
   */
  messages?: MessagesOption<Format>;
  /**
   * Which upgrade-request headers a connection keeps for `conn.headers`: `true`
   * (the default) every one, `false` none, or a list of names (any case). `onUpgrade`
   * sees every header either way; keeping fewer saves memory per connection and, on
   * Deno, the copy of every header at each upgrade (see docs/performance.md).
   */
  keepHeaders?: boolean | readonly string[];
  /**
   * Serves `wss://` (and `https://` for `onRequest`) on the port: PEM `cert` and `key`,
   * strings or bytes. Default: none (plain `ws://`). A mounted server leaves TLS to its host.
   */
  tls?: TlsOptions;
  /**
   * Answers plain HTTP requests (anything but a WebSocket upgrade) on the same port.
   * Return `undefined` to keep polysocket's answer: 426 on `path`, 404 elsewhere.
   * A throw or rejection goes to `onError` and the client gets 500.
   */
  onRequest?: RequestHandler;
  /**
   * Receives the server's events for metrics (connections, messages and bytes,
   * refusals, backpressure, heartbeat timeouts, topics): an observer from
   * `polysocket/metrics` (`prometheusMetrics().observer`, `openTelemetryMetrics(meter)`)
   * or your own. Default: none, and no cost.
   */
  metrics?: MetricsObserver;
}

/**
 * The type of {@link ServerOptions.messages} for a `Format`. Not a constraint on
 * `Format`: `InstanceType<typeof Server>` and `ConstructorParameters<typeof Server>`
 * instantiate the constraint, and an unknown format must read as "text" there
 * (string messages), as before servers had a format.
 */
export type MessagesOption<Format> = unknown extends Format ? "text" : Format & MessageFormat;

/**
 * Options after validation, with every default applied (see {@link ServerOptions}).
 * Untyped (`Data` and messages `unknown`): the engine hands hooks what the format made.
 */
export interface ResolvedOptions extends ServerHooks<unknown, unknown> {
  /** Answers plain HTTP requests; see {@link ServerOptions.onRequest}. */
  readonly onRequest?: RequestHandler;
  /** See {@link ServerOptions.port}. */
  readonly port: number;
  /** See {@link ServerOptions.hostname}. */
  readonly hostname: string;
  /** See {@link ServerOptions.path}. */
  readonly path: string;
  /** See {@link ServerOptions.maxPayload}. */
  readonly maxPayload: number;
  /** See {@link ServerOptions.heartbeat}. */
  readonly heartbeat: Required<HeartbeatOptions> | false;
  /** See {@link ServerOptions.idleTimeout}. */
  readonly idleTimeout: number;
  /** See {@link ServerOptions.handshakeTimeout}. */
  readonly handshakeTimeout: number;
  /** See {@link ServerOptions.maxConnections}. */
  readonly maxConnections: number;
  /** See {@link ServerOptions.backpressure}. */
  readonly backpressure: Required<BackpressureOptions>;
  /** See {@link ServerOptions.compression}; `false` when off. */
  readonly compression: Required<CompressionOptions> | false;
  /** See {@link ServerOptions.allowedOrigins}; a list becomes a predicate. */
  readonly allowedOrigins: ((origin: string) => boolean) | undefined;
  /** See {@link ServerOptions.rateLimit}. */
  readonly rateLimit: RateLimitOptions | false;
  /** See {@link ServerOptions.maxInvalidMessages}. */
  readonly maxInvalidMessages: number;
  /** See {@link ServerOptions.messages}; `"text"` when absent. */
  readonly messages: MessageFormat;
  /** See {@link ServerOptions.keepHeaders}; listed names in lower case. */
  readonly keepHeaders: KeepHeaders;
  /** See {@link ServerOptions.tls}; PEM bytes decoded to text. */
  readonly tls: ResolvedTls | undefined;
  /** See {@link ServerOptions.metrics}; every method present (no-ops for the missing). */
  readonly metrics: Required<MetricsObserver> | undefined;
}

/** Defaults shared by every runtime (see the options table in docs/contract.md). */
export const DEFAULTS: {
  readonly maxPayload: number;
  readonly heartbeat: Required<HeartbeatOptions>;
  readonly handshakeTimeout: number;
  readonly backpressure: Required<BackpressureOptions>;
  readonly compression: Required<CompressionOptions>;
  readonly maxInvalidMessages: number;
} = {
  maxPayload: 1_048_576, // 1 MiB
  heartbeat: { interval: 30_000, timeout: 10_000 },
  handshakeTimeout: 10_000,
  backpressure: { limit: 4_194_304, policy: "close" }, // 4 MiB
  // What `compression: true` means: `ws`'s threshold and zlib limit, no context kept.
  compression: {
    threshold: 1024,
    serverContextTakeover: false,
    clientContextTakeover: false,
    concurrency: 10,
  },
  maxInvalidMessages: 5,
};

const HOOKS = [
  "onUpgrade",
  "onConnect",
  "onMessage",
  "onBinary",
  "onDrain",
  "onDisconnect",
  "onError",
  "validate",
  "onRequest",
] as const;

/** Every name {@link ServerOptions} knows. */
const OPTION_NAMES: readonly (keyof ServerOptions<unknown, MessageFormat>)[] = [
  "port",
  "hostname",
  "path",
  "maxPayload",
  "heartbeat",
  "idleTimeout",
  "handshakeTimeout",
  "maxConnections",
  "backpressure",
  "compression",
  "allowedOrigins",
  "rateLimit",
  "maxInvalidMessages",
  "messages",
  "keepHeaders",
  "tls",
  "metrics",
  ...HOOKS,
];

/**
 * Validates options and applies defaults; throws `TypeError` naming the bad (or unknown) option.
 * The result is untyped: hooks typed for `Data` and `Format` are called by the
 * engine with what those types describe.
 */
export function resolveOptions<Data, Format>(typed: ServerOptions<Data, Format> = {}): ResolvedOptions {
  // Typed hooks take narrower arguments than the engine's untyped view: the
  // format and the server's type arguments vouch for what the engine passes.
  const options = typed as unknown as ServerOptions<unknown, MessageFormat>;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  rejectUnknown(options, OPTION_NAMES);
  const { port = 0, hostname = "0.0.0.0", path = "/" } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`options.port must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`options.hostname must be a non-empty string, got ${describe(hostname)}`);
  }
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`options.path must be a string starting with "/", got ${describe(path)}`);
  }
  for (const name of HOOKS) {
    const hook = options[name];
    if (hook !== undefined && typeof hook !== "function") {
      throw new TypeError(`options.${name} must be a function, got ${describe(hook)}`);
    }
  }
  return {
    ...options,
    port,
    hostname,
    path,
    maxPayload: count("maxPayload", options.maxPayload ?? DEFAULTS.maxPayload, 1),
    heartbeat: heartbeat(options.heartbeat),
    idleTimeout: count("idleTimeout", options.idleTimeout ?? 0, 0),
    handshakeTimeout: count("handshakeTimeout", options.handshakeTimeout ?? DEFAULTS.handshakeTimeout, 1),
    maxConnections: count("maxConnections", options.maxConnections ?? Number.POSITIVE_INFINITY, 0),
    backpressure: backpressure(options.backpressure),
    compression: compression(options.compression),
    allowedOrigins: origins(options.allowedOrigins),
    rateLimit: rateLimit(options.rateLimit),
    maxInvalidMessages: count(
      "maxInvalidMessages",
      options.maxInvalidMessages ?? DEFAULTS.maxInvalidMessages,
      1,
    ),
    messages: resolveMessages(options.messages),
    keepHeaders: keepHeaders(options.keepHeaders),
    tls: resolveTls(options.tls),
    metrics: resolveObserver(options.metrics),
  };
}

function keepHeaders(value: ServerOptions["keepHeaders"]): KeepHeaders {
  if (value === undefined) return true;
  if (typeof value === "boolean") return value;
  if (!Array.isArray(value) || !value.every((name) => typeof name === "string" && name !== "")) {
    throw new TypeError(
      `options.keepHeaders must be a boolean or a list of header names, got ${describe(value)}`,
    );
  }
  return Object.freeze(value.map((name: string) => name.toLowerCase()));
}

/** A whole number >= min (Infinity allowed), or a TypeError naming the option. */
function count(name: string, value: unknown, min: number): number {
  const ok = typeof value === "number" && value >= min && (Number.isInteger(value) || value === Infinity);
  if (!ok) throw new TypeError(`options.${name} must be an integer >= ${min}, got ${describe(value)}`);
  return value;
}

function heartbeat(value: ServerOptions["heartbeat"]): ResolvedOptions["heartbeat"] {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new TypeError(`options.heartbeat must be an object or false, got ${describe(value)}`);
  }
  if (value) rejectUnknown(value, ["interval", "timeout"], "options.heartbeat");
  return {
    interval: count("heartbeat.interval", value?.interval ?? DEFAULTS.heartbeat.interval, 1),
    timeout: count("heartbeat.timeout", value?.timeout ?? DEFAULTS.heartbeat.timeout, 1),
  };
}

function backpressure(value: ServerOptions["backpressure"]): ResolvedOptions["backpressure"] {
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new TypeError(`options.backpressure must be an object, got ${describe(value)}`);
  }
  if (value) rejectUnknown(value, ["limit", "policy"], "options.backpressure");
  const policy = value?.policy ?? DEFAULTS.backpressure.policy;
  if (policy !== "close" && policy !== "drop") {
    throw new TypeError(`options.backpressure.policy must be "close" or "drop", got ${describe(policy)}`);
  }
  return { limit: count("backpressure.limit", value?.limit ?? DEFAULTS.backpressure.limit, 1), policy };
}

const COMPRESSION_NAMES = ["threshold", "serverContextTakeover", "clientContextTakeover", "concurrency"];

function compression(value: ServerOptions["compression"]): ResolvedOptions["compression"] {
  if (value === undefined || value === false) return false;
  if (value === true) return DEFAULTS.compression;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`options.compression must be a boolean or an object, got ${describe(value)}`);
  }
  rejectUnknown(value, COMPRESSION_NAMES, "options.compression");
  const defaults = DEFAULTS.compression;
  return {
    threshold: count("compression.threshold", value.threshold ?? defaults.threshold, 0),
    serverContextTakeover: flag("compression.serverContextTakeover", value.serverContextTakeover, false),
    clientContextTakeover: flag("compression.clientContextTakeover", value.clientContextTakeover, false),
    concurrency: count("compression.concurrency", value.concurrency ?? defaults.concurrency, 1),
  };
}

/** A boolean option, `fallback` when absent, or a TypeError naming it. */
function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw new TypeError(`options.${name} must be a boolean, got ${describe(value)}`);
  return value;
}

function origins(value: ServerOptions["allowedOrigins"]): ResolvedOptions["allowedOrigins"] {
  if (value === undefined || typeof value === "function") return value;
  if (!Array.isArray(value) || !value.every((origin) => typeof origin === "string")) {
    throw new TypeError(
      `options.allowedOrigins must be a list of origins or a function, got ${describe(value)}`,
    );
  }
  const allowed = new Set(value.map((origin) => origin.toLowerCase()));
  return (origin) => allowed.has(origin.toLowerCase());
}

function rateLimit(value: ServerOptions["rateLimit"]): ResolvedOptions["rateLimit"] {
  if (value === undefined || value === false) return false;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`options.rateLimit must be an object or false, got ${describe(value)}`);
  }
  rejectUnknown(value, ["messages", "per"], "options.rateLimit");
  return {
    messages: count("rateLimit.messages", value.messages, 1),
    per: count("rateLimit.per", value.per, 1),
  };
}
