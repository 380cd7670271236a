/**
 * {@link RedisRoomStore}: every room of a process in Redis, through a constant
 * number of connections (one command client, one subscriber) and one heartbeat,
 * whatever the number of rooms. See the module documentation (index.ts) and
 * docs/redis.md for the key layout and the guarantees.
 */
import type { Buffer } from "node:buffer";
import type { Cluster, Redis } from "ioredis";
import { randomId } from "../core/id.ts";
import {
  type Member,
  type Origin,
  OUT_OF_ORDER,
  type PresenceChange,
  type RetentionLimits,
  type RoomData,
  type RoomListener,
  type RoomSnapshot,
  type RoomStore,
  SESSION_TTL,
  SESSION_WINDOW,
} from "../core/rooms/store.ts";
import { describe } from "../core/validate.ts";
import {
  decodeEntry,
  decodeMembers,
  decodeMessage,
  encodeData,
  encodeJoin,
  encodeMemberValue,
  type RawEntry,
  seqOf,
} from "./codec.ts";
import { type Beat, Heartbeat } from "./heartbeat.ts";
import { processesKey, type RoomKeys, roomKeys } from "./keys.ts";
import {
  type AnyClient,
  commandClient,
  type RedisRoomStoreOptions,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  STORE_OPTION_NAMES,
} from "./options.ts";
import { Reader } from "./reader.ts";
import { RoomFeed, type SyncReply } from "./room-feed.ts";
import { defineScripts, type ScriptCommands } from "./scripts.ts";

/** Fewest entries a room's stream keeps, whatever its history limit: room for readers that lag a little. */
export const MIN_RETAINED = 1000;

/** Sync failures are reported at most this often (ms): one outage, not one line per room. */
const SYNC_REPORT_MS = 1000;

/** Why {@link RedisRoomStore.connect} failed: where Redis was, and what went wrong. */
export class RedisConnectError extends Error {
  /** `host:port` of the Redis (or cluster node) it tried. */
  readonly where: string;
  /** The first connection error's message. */
  readonly reason: string;
  /** `where` Redis was, the `reason` it could not be reached, and the error behind it. */
  constructor(where: string, reason: string, cause: unknown) {
    super(`cannot connect to Redis at ${where}: ${reason}`, { cause });
    this.name = "RedisConnectError";
    this.where = where;
    this.reason = reason;
  }
}

/** Rooms in Redis, one store per process; see the module documentation. */
export class RedisRoomStore implements RoomStore {
  /** This process's id in presence and in the heartbeat set. */
  readonly process: string;
  readonly #client: Redis & ScriptCommands;
  readonly #owned: boolean;
  readonly #options: ResolvedStoreOptions;
  readonly #rooms = new Map<string, RoomFeed>();
  readonly #byChannel = new Map<string, RoomFeed>();
  readonly #heartbeat: Heartbeat;
  readonly #reader: Reader;
  /** When the beat before the last one was sent: a restart handled since then explains being forgotten. */
  #previousBeat = 0;
  readonly #restartedAt = new WeakMap<RoomFeed, number>();
  /** Whether the reader subscribed once already: each later subscription is a reconnection. */
  #subscribedBefore = false;
  #lastSyncReport = 0;
  #closed = false;

  private constructor(client: AnyClient, owned: boolean, process: string, options: ResolvedStoreOptions) {
    this.#client = defineScripts(client);
    this.#owned = owned;
    this.process = process;
    this.#options = options;
    this.#heartbeat = new Heartbeat(
      this.#client,
      processesKey(options.prefix),
      process,
      options,
      (beat) => this.#onBeat(beat),
      (error) => this.#report(error),
    );
    const source = client.isCluster ? { cluster: client as Cluster } : { standalone: client as Redis };
    this.#reader = new Reader(source, {
      message: (channel, message) => this.#onMessage(channel, message),
      resubscribed: () => {
        if (this.#subscribedBefore) this.#options.observer?.storeReconnected();
        this.#subscribedBefore = true;
        this.#resyncAll();
      },
      error: (error) => this.#report(error),
    });
  }

  /** Connects (or takes the client handed in), registers this process, and starts its heartbeat. */
  static async connect(options: RedisRoomStoreOptions = {}): Promise<RedisRoomStore> {
    return RedisRoomStore.connectWith(options, STORE_OPTION_NAMES);
  }

  /** {@link connect}, accepting `known` option names (for helpers that add their own options). */
  static async connectWith(
    options: RedisRoomStoreOptions,
    known: readonly string[],
  ): Promise<RedisRoomStore> {
    const resolved = resolveStoreOptions(options, known);
    const process = randomId();
    const { client, owned } = commandClient(options, `${resolved.prefix}:${process}`);
    // The first connection error says more than the "Connection is closed" that connect() rejects with.
    let firstError: Error | undefined;
    const early = (error: Error) => {
      firstError ??= error;
    };
    client.on("error", early);
    let store: RedisRoomStore | undefined;
    try {
      await ready(client);
      store = new RedisRoomStore(client, owned, process, resolved);
      await store.#heartbeat.start();
      return store;
    } catch (error) {
      await store?.close().catch(() => undefined);
      if (owned) client.disconnect();
      const reason = (firstError ?? (error as Error)).message;
      throw new RedisConnectError(where(client), reason, error);
    } finally {
      client.off("error", early);
      // ioredis reconnects by itself; errors between attempts are reported, not thrown.
      const opened = store;
      if (owned && opened) client.on("error", (error) => opened.#report(error));
    }
  }

  /** Rooms open in this process. */
  get rooms(): number {
    return this.#rooms.size;
  }

  async open(room: string, limits: RetentionLimits, listener: RoomListener): Promise<RoomSnapshot> {
    checkRoom(room);
    checkLimits(limits);
    if (this.#closed) throw new Error("the Redis room store is closed");
    if (this.#rooms.has(room)) throw new Error(`room "${room}" is open in this store already`);
    const keys = roomKeys(this.#options.prefix, room);
    const feed = new RoomFeed(
      room,
      keys,
      limits,
      listener,
      (f) => this.#sync(f),
      (e) => this.#reportSync(e),
    );
    this.#rooms.set(room, feed);
    this.#byChannel.set(keys.channel, feed);
    let reply: SyncReply;
    try {
      // Subscribed first: every change stored after the snapshot arrives, the earlier ones are dropped.
      await this.#reader.subscribe(keys.channel);
      reply = await this.#read(keys, "", -1, Math.max(limits.historyLimit, 1));
    } catch (error) {
      void this.#forget(feed);
      throw error;
    }
    if (feed.released) throw new Error(`room "${room}" was released while it opened`);
    feed.begin(reply);
    // The opener gets the snapshot first; what arrived meanwhile follows it.
    setTimeout(() => feed.start(), 0);
    // Members of processes the last beat did not see alive: find out now rather than at the next beat.
    if (reply.members.some((m) => !this.#heartbeat.alive.has(m.process))) void this.#heartbeat.beat();
    return {
      epoch: reply.epoch,
      history: history(reply, limits),
      lastSeq: reply.lastSeq,
      online: reply.members.map(({ id, info }) => ({ id, info })),
    };
  }

  async append(
    room: string,
    data: RoomData | undefined,
    change: PresenceChange = {},
    origin?: Origin,
  ): Promise<number> {
    const feed = this.#rooms.get(room);
    if (feed === undefined) throw new Error(`room "${room}" is not open`);
    if (origin !== undefined) checkOrigin(origin);
    const { kind, bytes } = encodeData(data);
    const { join, leave } = change;
    const { keys } = feed;
    const retained = Math.max(feed.limits.historyLimit, MIN_RETAINED);
    const started = performance.now();
    try {
      const seq = await this.#client.polysocketAppend(
        keys.epoch,
        keys.stream,
        keys.members,
        keys.presence,
        origin === undefined ? keys.presence : keys.session + origin.session,
        feed.epoch,
        retained,
        kind,
        bytes,
        join?.id ?? "",
        join ? encodeMemberValue(join, this.process) : "",
        join ? encodeJoin(join, this.process) : "",
        leave ?? "",
        leave === undefined ? "" : JSON.stringify(leave),
        keys.channel,
        origin === undefined ? "" : origin.n,
        SESSION_WINDOW,
        SESSION_TTL,
      );
      this.#options.observer?.storePublished((performance.now() - started) / 1000);
      return seq;
    } catch (error) {
      const message = String((error as Error).message);
      // Redis lost the room: find its new epoch (the listener hears `restarted`); this one is refused.
      if (message.includes("POLYSOCKET_EPOCH")) void this.#restarted(feed);
      const due = /POLYSOCKET_OUT_OF_ORDER (\d+)/.exec(message);
      if (due && origin) throw outOfOrder(Number(due[1]), origin.n);
      throw error;
    }
  }

  async release(room: string): Promise<void> {
    const feed = this.#rooms.get(room);
    if (feed) await this.#forget(feed);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const feed of this.#rooms.values()) feed.release();
    this.#rooms.clear();
    this.#byChannel.clear();
    // Leaving for good: any member still registered here is announced gone by the others.
    await this.#heartbeat.stop();
    this.#reader.close();
    if (this.#owned) await this.#client.quit().catch(() => this.#client.disconnect());
  }

  async #forget(feed: RoomFeed): Promise<void> {
    feed.release();
    if (this.#rooms.get(feed.name) === feed) this.#rooms.delete(feed.name);
    if (this.#byChannel.get(feed.keys.channel) === feed) {
      this.#byChannel.delete(feed.keys.channel);
      await this.#reader.unsubscribe(feed.keys.channel);
    }
  }

  #onMessage(channel: string, message: Buffer): void {
    const feed = this.#byChannel.get(channel);
    if (feed === undefined) return; // a room released meanwhile (or the application's own channel)
    try {
      const event = decodeMessage(message);
      // Lag by Redis's clock against this process's: meaningful where they agree (one host, NTP).
      if (event.seq > 0) this.#options.observer?.storeRead(Math.max(0, Date.now() - event.time) / 1000);
      feed.receive(event);
    } catch (error) {
      this.#report(error);
    }
  }

  /** Catches every open room up (the subscriber reconnected: publications may have been lost). */
  #resyncAll(): void {
    for (const feed of this.#rooms.values()) void this.#resync(feed);
  }

  async #resync(feed: RoomFeed): Promise<boolean> {
    const restarted = await feed.resync();
    if (restarted) this.#restartedAt.set(feed, Date.now());
    return restarted;
  }

  async #restarted(feed: RoomFeed): Promise<void> {
    if (await this.#resync(feed)) {
      this.#report(
        new Error(`room "${feed.name}" lost its data in Redis: started over as epoch ${feed.epoch}`),
      );
    }
  }

  /** After each heartbeat: announce the members of dead processes; if this one was taken for dead, say so. */
  #onBeat(beat: Beat): void {
    const previous = this.#previousBeat;
    this.#previousBeat = beat.sentAt;
    if (beat.forgotten) {
      this.#report(new Error("this process was taken for dead by the others; announcing its members again"));
      for (const feed of this.#rooms.values()) void this.#revive(feed, previous);
    }
    for (const feed of this.#rooms.values()) {
      const orphans: Member[] = [];
      for (const member of feed.members.values()) {
        if (member.process === this.process || beat.alive.has(member.process)) continue;
        if (member.since > beat.sentAt || feed.reported.has(member.id)) continue;
        feed.reported.add(member.id);
        orphans.push({ id: member.id, info: member.info });
      }
      if (orphans.length > 0)
        call(
          () => feed.listener.orphaned(orphans),
          (e) => this.#report(e),
        );
    }
  }

  /** This process was forgotten: unless the room restarted since (Redis lost everything), it was taken for dead. */
  async #revive(feed: RoomFeed, previousBeat: number): Promise<void> {
    const restarted = await this.#resync(feed);
    if (restarted || (this.#restartedAt.get(feed) ?? 0) >= previousBeat || feed.released) {
      if (restarted)
        this.#report(
          new Error(`room "${feed.name}" lost its data in Redis: started over as epoch ${feed.epoch}`),
        );
      return;
    }
    call(
      () => feed.listener.revived(),
      (e) => this.#report(e),
    );
  }

  #sync(feed: RoomFeed): Promise<SyncReply> {
    return this.#read(feed.keys, feed.epoch, feed.lastSeq, 0);
  }

  /** Runs the SYNC script (see scripts.ts) and decodes its reply. */
  async #read(keys: RoomKeys, epoch: string, after: number, count: number): Promise<SyncReply> {
    const reply = (await this.#client.polysocketSyncBuffer(
      keys.epoch,
      keys.stream,
      keys.members,
      keys.presence,
      randomId(),
      epoch,
      after,
      count,
    )) as [Buffer, Buffer, RawEntry[], Buffer, Buffer[], Buffer];
    const [current, now, entries, lastId, members, version] = reply;
    return {
      epoch: current.toString(),
      now: Number(now.toString()),
      entries: entries.map(decodeEntry),
      lastSeq: seqOf(lastId.toString()),
      members: decodeMembers(members),
      version: Number(version.toString()),
    };
  }

  #report(error: unknown): void {
    if (!this.#closed)
      call(
        () => this.#options.onError(error),
        () => undefined,
      );
  }

  #reportSync(error: unknown): void {
    const now = Date.now();
    if (now - this.#lastSyncReport < SYNC_REPORT_MS) return;
    this.#lastSyncReport = now;
    this.#report(error);
  }
}

/** The snapshot's history: the latest `historyLimit` entries, none older than `maxAge` (Redis's clock). */
function history(reply: SyncReply, { historyLimit, maxAge }: RetentionLimits) {
  if (historyLimit === 0) return [];
  const oldest = maxAge === undefined ? -Infinity : reply.now - maxAge;
  return reply.entries
    .slice(-historyLimit)
    .filter((e) => e.seq > 0 && e.time >= oldest)
    .map((e) => ({ seq: e.seq, data: e.data!, time: e.time }));
}

/** The rejection of a number that skips some: the client resends from `expected` (as the memory store's). */
function outOfOrder(expected: number, got: number): Error {
  const error = new Error(`out of order: message ${got} of its session came before ${expected}`);
  return Object.assign(error, { code: OUT_OF_ORDER, expected });
}

function checkOrigin(origin: Origin): void {
  if (typeof origin.session !== "string" || !Number.isSafeInteger(origin.n) || origin.n < 1) {
    throw new TypeError(`origin must be { session: string, n: integer >= 1 }, got ${describe(origin)}`);
  }
}

function checkRoom(room: unknown): void {
  if (typeof room !== "string") throw new TypeError(`a room's name must be a string, got ${describe(room)}`);
}

function checkLimits(limits: RetentionLimits): void {
  const { historyLimit, maxAge } = limits;
  if (!Number.isSafeInteger(historyLimit) || historyLimit < 0) {
    throw new TypeError(`historyLimit must be a non-negative integer, got ${describe(historyLimit)}`);
  }
  if (maxAge !== undefined && !(typeof maxAge === "number" && maxAge > 0)) {
    throw new TypeError(`maxAge must be a positive number of ms or undefined, got ${describe(maxAge)}`);
  }
}

/** Resolves once `client` can take commands (connecting it if it waits for that). */
async function ready(client: AnyClient): Promise<void> {
  if (client.status === "wait") await client.connect();
  if (client.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      client.off("ready", done);
      client.off("end", failed);
      resolve();
    };
    const failed = () => {
      client.off("ready", done);
      client.off("end", failed);
      reject(new Error("Connection is closed."));
    };
    client.on("ready", done);
    client.on("end", failed);
  });
}

/** `host:port` of a client, for error messages. */
function where(client: AnyClient): string {
  if (client.isCluster) {
    const nodes = (client as Cluster).nodes("all").map((node) => `${node.options.host}:${node.options.port}`);
    return nodes.length > 0 ? nodes.join(", ") : "the cluster's startup nodes";
  }
  const { host, port } = (client as Redis).options;
  return `${host}:${port}`;
}

function call(notify: () => void, onError: (error: unknown) => void): void {
  try {
    notify();
  } catch (error) {
    onError(error);
  }
}
