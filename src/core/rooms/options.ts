/**
 * The options of {@link Rooms} (rooms.ts), their defaults, and their checks.
 */
import type { Connection } from "../connection.ts";
import { type MetricsObserver, type Observer, resolveObserver } from "../observer.ts";
import type { StandardSchemaV1 } from "../standard-schema.ts";
import { describe, rejectUnknown } from "../validate.ts";
import { MemoryRoomStore } from "./memory-store.ts";
import type { PublishHook } from "./publishes.ts";
import type { Room } from "./room.ts";
import { checkedBy } from "./schema.ts";
import type { JsonValue, Member, RoomData, RoomStore } from "./store.ts";

/** Options of {@link Rooms}; `Message` is what `onPublish` gets (the `schema`'s output). */
export interface RoomsOptions<Message = RoomData> {
  /** Where every room's messages and presence live. Default: this process's memory (a `MemoryRoomStore`). */
  store?: RoomStore;
  /** Messages each room keeps for newcomers and resuming members; the oldest go first. Default 1000. */
  historyLimit?: number;
  /** Messages older than this (ms) are not replayed. Default: no age limit. */
  maxAge?: number;
  /** What presence shows for a member (e.g. a nickname from `conn.data`). Default: the connection id. */
  presence?: (conn: Connection) => JsonValue;
  /** The message stored with each join (with the presence change, atomically). Default: none. */
  joinNotice?: (member: Member, room: string) => RoomData | undefined;
  /** The message stored with each leave (a vanished process's members' too). Default: none. */
  leaveNotice?: (member: Member, room: string) => RoomData | undefined;
  /** Whether `conn` may join `room`: `true`, or the reason it may not (sent in `left`). Default: everyone may. */
  canJoin?: (conn: Connection, room: string) => true | string | Promise<true | string>;
  /**
   * Checks every member's publish before `onPublish` (any Standard Schema v1:
   * zod, valibot, arktype…): what it refuses is not stored, and the sender is
   * told the failing path and the schema's message (`invalid message: at text: …`).
   */
  schema?: StandardSchemaV1<unknown, Message>;
  /**
   * What a member's `publish` stores: the data (changed or as sent), or
   * `undefined` to drop it. Throwing refuses it: the sender gets a `notice`
   * (or, for a publish with a `ref`, a `nack`) with the error's message.
   * Default: the data as sent.
   */
  onPublish?: (
    conn: Connection,
    room: Room,
    data: Message,
  ) => RoomData | undefined | Promise<RoomData | undefined>;
  /**
   * Answers a client's `request(data)` (RPC over the same connection): what it
   * returns (or resolves to) goes back as the response's data; what it throws,
   * as the response's error. Default: none (requests are answered with an error).
   */
  respond?: (conn: Connection, data: JsonValue) => JsonValue | undefined | Promise<JsonValue | undefined>;
  /** Rooms one connection may be in at once; a join past it is refused. Default 100. */
  maxRoomsPerConnection?: number;
  /** Where a store's refusals of notices, and hooks that throw, are reported. Default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Told of rooms opened and released and of members joining and leaving
   * (e.g. the same `prometheusMetrics().observer` the server has). Default: none.
   */
  metrics?: MetricsObserver;
}

/** {@link RoomsOptions} with every default filled in. */
export interface ResolvedRoomsOptions {
  readonly store: RoomStore;
  readonly historyLimit: number;
  readonly maxAge: number | undefined;
  readonly presence: (conn: Connection) => JsonValue;
  readonly joinNotice: RoomsOptions["joinNotice"];
  readonly leaveNotice: RoomsOptions["leaveNotice"];
  readonly canJoin: NonNullable<RoomsOptions["canJoin"]>;
  readonly onPublish: PublishHook;
  readonly respond: RoomsOptions["respond"];
  readonly maxRoomsPerConnection: number;
  readonly onError: (error: unknown) => void;
  readonly observer: Observer | undefined;
}

const NAMES: readonly (keyof RoomsOptions)[] = [
  "store",
  "historyLimit",
  "maxAge",
  "presence",
  "joinNotice",
  "leaveNotice",
  "canJoin",
  "schema",
  "onPublish",
  "respond",
  "maxRoomsPerConnection",
  "onError",
  "metrics",
];

const FUNCTIONS = [
  "presence",
  "joinNotice",
  "leaveNotice",
  "canJoin",
  "onPublish",
  "respond",
  "onError",
] as const;

/** Checks `options` (`TypeError` naming the bad one) and fills in the defaults. */
export function resolveRoomsOptions<Message>(options: RoomsOptions<Message>): ResolvedRoomsOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  rejectUnknown(options, NAMES);
  for (const name of FUNCTIONS) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`options.${name} must be a function, got ${describe(options[name])}`);
    }
  }
  const { historyLimit = 1000, maxAge, maxRoomsPerConnection = 100, store } = options;
  count("historyLimit", historyLimit, 0);
  count("maxRoomsPerConnection", maxRoomsPerConnection, 1);
  if (maxAge !== undefined && !(typeof maxAge === "number" && maxAge > 0)) {
    throw new TypeError(`options.maxAge must be a positive number of ms, got ${describe(maxAge)}`);
  }
  if (store !== undefined && typeof (store as Partial<RoomStore>).append !== "function") {
    throw new TypeError(`options.store must be a RoomStore, got ${describe(store)}`);
  }
  return {
    store: store ?? new MemoryRoomStore(),
    historyLimit,
    maxAge,
    presence: options.presence ?? ((conn) => conn.id),
    joinNotice: options.joinNotice,
    leaveNotice: options.leaveNotice,
    canJoin: options.canJoin ?? (() => true),
    onPublish: publishHook(options),
    respond: options.respond,
    maxRoomsPerConnection,
    onError: options.onError ?? console.error,
    observer: resolveObserver(options.metrics),
  };
}

/** `onPublish` (or storing as sent), behind the schema if there is one. */
function publishHook<Message>(options: RoomsOptions<Message>): PublishHook {
  const hook = (options.onPublish ?? ((_conn, _room, data) => data as RoomData)) as PublishHook;
  const { schema } = options;
  if (schema === undefined) return hook;
  if (typeof schema !== "object" || schema === null || typeof schema["~standard"]?.validate !== "function") {
    throw new TypeError(
      `options.schema must be a Standard Schema (with ~standard.validate), got ${describe(schema)}`,
    );
  }
  return checkedBy(schema, hook);
}

function count(name: string, value: unknown, min: number): void {
  if (!Number.isInteger(value) || (value as number) < min) {
    throw new TypeError(`options.${name} must be an integer >= ${min}, got ${describe(value)}`);
  }
}
