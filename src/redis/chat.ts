/**
 * The ready-made uses of the Redis store: a `ChatRoom` (`redisChatRoom`, one
 * room, as before) and `Rooms` (`redisRooms`, any number of rooms), each on a
 * store of its own that its `close()` closes.
 */
import { ChatRoom, type ChatRoomOptions } from "../core/chat-room.ts";
import type { RoomsOptions } from "../core/rooms/options.ts";
import { Rooms } from "../core/rooms/rooms.ts";
import { type RedisRoomStoreOptions, STORE_OPTION_NAMES } from "./options.ts";
import { RedisConnectError, RedisRoomStore } from "./store.ts";

/** Options of {@link redisChatRoom}: where Redis is, and the room. */
export interface RedisChatRoomOptions extends RedisRoomStoreOptions, Pick<ChatRoomOptions, "historyLimit"> {
  /** The room's name: processes with the same name (and Redis) share one room. Default "chat". */
  room?: string;
}

/** @deprecated The options of {@link redisChatRoom} under their former name. */
export type RedisBrokerOptions = RedisChatRoomOptions;

/**
 * A {@link ChatRoom} whose messages live in Redis: every process that opens the
 * same `room` on the same Redis serves one room. `room.close()` closes its store too.
 */
export async function redisChatRoom(options: RedisChatRoomOptions = {}): Promise<ChatRoom> {
  const { room = "chat", historyLimit, onError } = options;
  let store: RedisRoomStore;
  try {
    store = await RedisRoomStore.connectWith(options, [...STORE_OPTION_NAMES, "room", "historyLimit"]);
  } catch (error) {
    if (!(error instanceof RedisConnectError)) throw error;
    throw new Error(`cannot open room "${room}" in Redis at ${error.where}: ${error.reason}`, {
      cause: error,
    });
  }
  try {
    return await ChatRoom.open({ store, name: room, historyLimit, onError, ownsStore: true });
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Options of {@link redisRooms}: where Redis is (the store's options), and the rooms' ({@link RoomsOptions} but `store`). */
export interface RedisRoomsOptions extends RedisRoomStoreOptions, Omit<RoomsOptions, "store" | "onError"> {}

/** {@link Rooms} on a Redis store of their own: `close()` closes both. */
export class RedisRooms extends Rooms {
  /** The store the rooms live in (one per process: every room's connections and heartbeat). */
  readonly store: RedisRoomStore;

  /** Use {@link redisRooms}, which connects the store first. */
  constructor(store: RedisRoomStore, options: Omit<RoomsOptions, "store">) {
    super({ ...options, store });
    this.store = store;
  }

  /** Closes the rooms, then the store. */
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.store.close();
    }
  }
}

/**
 * Connects a {@link RedisRoomStore} and returns {@link Rooms} on it: every
 * process that does the same on the same Redis serves the same rooms (by name).
 */
export async function redisRooms(options: RedisRoomsOptions = {}): Promise<RedisRooms> {
  const { url, redis, prefix, heartbeatInterval, deadAfter, ...roomsOptions } = options;
  const storeOptions: RedisRoomStoreOptions = {
    url,
    redis,
    prefix,
    heartbeatInterval,
    deadAfter,
    onError: options.onError,
    metrics: options.metrics, // the rooms' and the store's, one observer
  };
  // Check the rooms' options before connecting: a TypeError should not cost a connection.
  new Rooms({ ...roomsOptions, store: PROBE_STORE });
  const store = await RedisRoomStore.connect(withoutUndefined(storeOptions));
  return new RedisRooms(store, roomsOptions);
}

/** A store for checking options only (never opened). */
const PROBE_STORE = {
  open: () => Promise.reject(new Error("not a store")),
  append: () => Promise.reject(new Error("not a store")),
  release: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

function withoutUndefined<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}
