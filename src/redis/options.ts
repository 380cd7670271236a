/**
 * The options of {@link RedisRoomStore.connect}, checked, and the command
 * client they make (or the one handed in).
 */
import { type Cluster, Redis, type RedisOptions } from "ioredis";
import { type MetricsObserver, type Observer, resolveObserver } from "../core/observer.ts";
import { describe, rejectUnknown } from "../core/validate.ts";
import { checkPrefix } from "./keys.ts";

/**
 * An ioredis client handed in: a `Redis` (standalone, or through Sentinel) or a
 * `Cluster`. Typed by the little that tells them apart, so that this module's
 * types stand alone (ioredis's are not part of its API).
 */
export interface RedisClient {
  /** `true` for an ioredis `Cluster`, `false` for a `Redis`. */
  readonly isCluster: boolean;
  /** A new client with the same options (ioredis's `duplicate`). */
  duplicate(...options: never[]): unknown;
}

/** A client as the store uses it (ioredis's own types, inside this module only). */
export type AnyClient = Redis | Cluster;

/** Options of {@link RedisRoomStore.connect}. */
export interface RedisRoomStoreOptions {
  /** Redis URL, e.g. `redis://localhost:6379`. Default: ioredis's default (localhost:6379). */
  url?: string;
  /**
   * An ioredis client to use (a `Redis`, or a `Cluster` for Redis Cluster): the
   * store sends its commands through it, adds one subscriber connection, and
   * leaves it open on `close()`. Or, as a plain object, extra ioredis options
   * for the client the store makes from `url` (its `RedisOptions`: timeouts,
   * TLS, `maxRetriesPerRequest`, `sentinels`…), typed loosely so that this
   * module's types stand alone.
   */
  redis?: RedisClient | { readonly [option: string]: unknown };
  /** Prefix of the Redis keys. Default "polysocket". No braces (they would break the rooms' hash tags). */
  prefix?: string;
  /** How often this process tells Redis it is alive, in ms. Default 1000. */
  heartbeatInterval?: number;
  /** After how long without a heartbeat a process counts as dead and its members as gone, in ms. Default 5000. */
  deadAfter?: number;
  /** Where connection trouble and read errors go; the store keeps retrying. Default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Told how long each append took (Redis's answer), how far behind the reader
   * received each message, and of each reconnection of the reader (e.g. the
   * server's `prometheusMetrics().observer`). Default: none.
   */
  metrics?: MetricsObserver;
}

/** Every name {@link RedisRoomStoreOptions} knows. */
export const STORE_OPTION_NAMES: readonly (keyof RedisRoomStoreOptions)[] = [
  "url",
  "redis",
  "prefix",
  "heartbeatInterval",
  "deadAfter",
  "onError",
  "metrics",
];

/** The options checked, with their defaults. */
export interface ResolvedStoreOptions {
  readonly prefix: string;
  readonly heartbeatInterval: number;
  readonly deadAfter: number;
  readonly onError: (error: unknown) => void;
  readonly observer: Observer | undefined;
}

/** Checks the options (TypeError for a bad one) and fills in the defaults. */
export function resolveStoreOptions(
  options: RedisRoomStoreOptions,
  known: readonly string[],
): ResolvedStoreOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  rejectUnknown(options, known);
  const {
    prefix = "polysocket",
    heartbeatInterval = 1000,
    deadAfter = 5000,
    onError = console.error,
  } = options;
  if (
    !(typeof heartbeatInterval === "number" && heartbeatInterval > 0 && Number.isFinite(heartbeatInterval))
  ) {
    throw new TypeError(
      `options.heartbeatInterval must be a positive number of ms, got ${describe(heartbeatInterval)}`,
    );
  }
  if (!(typeof deadAfter === "number" && deadAfter > heartbeatInterval && Number.isFinite(deadAfter))) {
    throw new TypeError(
      `options.deadAfter must be a number of ms longer than heartbeatInterval, got ${describe(deadAfter)}`,
    );
  }
  if (typeof onError !== "function")
    throw new TypeError(`options.onError must be a function, got ${describe(onError)}`);
  if (options.url !== undefined && typeof options.url !== "string") {
    throw new TypeError(`options.url must be a string, got ${describe(options.url)}`);
  }
  if (options.redis !== undefined && (typeof options.redis !== "object" || options.redis === null)) {
    throw new TypeError(
      `options.redis must be an ioredis client or an object of ioredis options, got ${describe(options.redis)}`,
    );
  }
  if (isClient(options.redis) && options.url !== undefined) {
    throw new TypeError(
      "options.url and an ioredis client in options.redis are exclusive: the client knows where Redis is",
    );
  }
  const observer = resolveObserver(options.metrics);
  return { prefix: checkPrefix(prefix), heartbeatInterval, deadAfter, onError, observer };
}

/** Whether `value` is an ioredis client (by shape: the application may have its own copy of ioredis). */
export function isClient(value: unknown): value is RedisClient {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Redis).duplicate === "function" &&
    "isCluster" in value
  );
}

/**
 * The client handed in, or a new one from `url` and the ioredis options (not
 * connected yet), named `connectionName` in CLIENT LIST unless the options name it.
 */
export function commandClient(
  options: RedisRoomStoreOptions,
  connectionName: string,
): { client: AnyClient; owned: boolean } {
  if (isClient(options.redis)) return { client: options.redis as AnyClient, owned: false };
  const redisOptions = { lazyConnect: true, connectionName, ...options.redis } as RedisOptions;
  return {
    client: options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions),
    owned: true,
  };
}
