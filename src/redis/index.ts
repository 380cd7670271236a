/**
 * `polysocket/redis`: one chat room served by many processes (Node, Bun and
 * Deno alike) through Redis, on the `ioredis` client (an optional peer
 * dependency: `npm install ioredis`).
 *
 * The room's messages live in one Redis Stream, `polysocket:{room}:stream`.
 * Each message is added with the id `0-*`, so Redis numbers them 0-1, 0-2, 0-3…
 * atomically across every process: the second half of the stream id *is* the
 * sequence number of the resumable protocol (`seq`), and a client that
 * reconnects to another process resumes from the same number. Every process
 * reads the stream in order with `XREAD BLOCK` from the last id it delivered.
 * The stream is capped with `XADD … MAXLEN ~` at the history limit, or at
 * {@link MIN_RETAINED} entries if that is larger, so that a process running a
 * little behind still finds the entries it has not read yet.
 *
 * The room's epoch (`polysocket:{room}:epoch`) is created once and shared; a
 * publication checks it in the same script that adds the entry, so a Redis that
 * came back empty refuses messages instead of numbering them from 1 again.
 *
 * Presence: who is online lives in the hash `polysocket:{room}:members`
 * (member → process), changed by the same script that adds the join or leave
 * notice, so the online list and the stream agree. Every process beats every
 * `heartbeatInterval` ms in the sorted set `polysocket:{room}:processes`
 * (process → deadline, by Redis's clock); members of a process whose deadline
 * passed (`deadAfter`, e.g. it was SIGKILLed) get their leave announced, once,
 * by whichever process notices first. A process that was only paused finds
 * itself forgotten at its next heartbeat and announces its members again.
 *
 * Redis going away: ioredis reconnects by itself; errors go to `onError`; the
 * reader resumes after the last id it delivered, and publications wait in
 * ioredis's queue (or fail after `maxRetriesPerRequest` attempts, refused to
 * their sender). Redis coming back *empty* (no persistence) is noticed by the
 * epoch check (in a publication, a heartbeat, or an entry of another epoch):
 * the room starts over under a new epoch (see `ChatRoom`), and a publication
 * that was meant for the old one is refused, never numbered anew.
 *
 * @example
 * ```ts
 * import { Server } from "polysocket";
 * import { redisChatRoom } from "polysocket/redis";
 * const room = await redisChatRoom({ url: "redis://localhost:6379", room: "lobby" });
 * const server = new Server({
 *   port: 8080,
 *   path: "/chat",
 *   validate: (conn, message) => room.validate(conn, message),
 *   onConnect: (conn) => room.addClient(conn),
 *   onMessage(conn, raw) {
 *     // Unwraps polysocket/client's frames and answers its pings; plain text passes as is.
 *     const message = room.receive(conn, raw);
 *     if (message === undefined) return;
 *     // Redis may refuse to store it: then nobody got it, so tell the sender.
 *     room.publish(`User ${conn.id}: ${message}`).catch((error) => room.notify(conn, `Message not delivered: ${error.message}`));
 *   },
 *   onDisconnect: (conn) => room.removeClient(conn),
 * });
 * await server.listen();
 * ```
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";
import type { BrokerEntry, BrokerListener, PresenceChange, RoomBroker } from "../core/broker.ts";
import { ChatRoom, type ChatRoomOptions } from "../core/chat-room.ts";
import { randomId } from "../core/id.ts";
import { describe, rejectUnknown } from "../core/validate.ts";

/** Fewest entries the stream keeps, whatever the history limit: room for readers that lag a little. */
export const MIN_RETAINED = 1000;

/** Options of {@link RedisBroker.open} and {@link redisChatRoom}. */
export interface RedisBrokerOptions {
  /** Redis URL, e.g. `redis://localhost:6379`. Default: ioredis's default (localhost:6379). */
  url?: string;
  /** The room's name: processes with the same name (and Redis) share one room. Default "chat". */
  room?: string;
  /** Messages kept for newcomers and resuming clients. Default 1000. */
  historyLimit?: number;
  /** Prefix of the Redis keys. Default "polysocket". */
  prefix?: string;
  /** Where connection trouble and read errors go; the broker keeps retrying. Default `console.error`. */
  onError?: (error: unknown) => void;
  /** How often this process tells Redis it is alive, in ms. Default 1000. */
  heartbeatInterval?: number;
  /** After how long without a heartbeat a process counts as dead and its members as gone, in ms. Default 5000. */
  deadAfter?: number;
  /**
   * Extra ioredis options (its `RedisOptions`: timeouts, TLS, `maxRetriesPerRequest`,
   * `retryStrategy`…), typed loosely here so that this module's types stand alone.
   */
  redis?: { readonly [option: string]: unknown };
}

/** Every name {@link RedisBrokerOptions} knows. */
const REDIS_OPTION_NAMES: readonly (keyof RedisBrokerOptions)[] = [
  "url",
  "room",
  "historyLimit",
  "prefix",
  "onError",
  "heartbeatInterval",
  "deadAfter",
  "redis",
];

// KEYS: epoch, stream, members. ARGV: epoch, retained, text, kind ("", "j" or "l"), member, process.
// Refuses when the epoch is not ours (Redis lost the room); a leave of a member not online is skipped.
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('POLYSOCKET_EPOCH the room restarted in Redis (its data was lost); message not stored')
end
if ARGV[4] == 'j' then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-*', 'e', ARGV[1], 't', ARGV[3], 'j', ARGV[5])
elseif ARGV[4] == 'l' then
  if redis.call('HDEL', KEYS[3], ARGV[5]) == 0 then return false end
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-*', 'e', ARGV[1], 't', ARGV[3], 'l', ARGV[5])
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-*', 'e', ARGV[1], 't', ARGV[3])`;

// KEYS: processes, members, epoch. ARGV: process, deadAfter. Beats for this process, forgets dead
// processes; returns the room's epoch ("" if none), the members whose process is dead or unknown,
// and 1 if this process was not registered (taken for dead and forgotten, or Redis lost it).
const HEARTBEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local orphans = {}
local members = redis.call('HGETALL', KEYS[2])
for i = 1, #members, 2 do
  if not redis.call('ZSCORE', KEYS[1], members[i + 1]) then table.insert(orphans, members[i]) end
end
return {redis.call('GET', KEYS[3]) or '', orphans, added}`;

/** Pause before reading again after a failed read, in ms. */
const RETRY_MS = 250;
/** Longest `XREAD BLOCK`, in ms: the reader wakes up at least this often (and notices a restart). */
const BLOCK_MS = 2000;

type StreamEntry = [id: string, fields: string[]];

/** A {@link RoomBroker} on a Redis Stream; see the module documentation. */
export class RedisBroker implements RoomBroker {
  readonly history: readonly BrokerEntry[];
  readonly lastSeq: number;
  readonly online: readonly string[];
  /** This process's id in the room's presence. */
  readonly process: string;
  readonly #commands: Redis;
  readonly #reader: Redis;
  readonly #keys: Keys;
  readonly #timing: { heartbeatInterval: number; deadAfter: number };
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  readonly #retained: number;
  readonly #onError: (error: unknown) => void;
  #listener: BrokerListener | undefined;
  #epoch: string;
  /** The last stream id handed over. */
  #after: string;
  /** Bumped when the room restarts in Redis: a read begun before is stale. */
  #generation = 0;
  #restarting: Promise<void> | undefined;
  readonly #room: string;
  #closed = false;
  #reading: Promise<void> | undefined;

  private constructor(
    commands: Redis,
    keys: Keys,
    state: {
      epoch: string;
      history: BrokerEntry[];
      lastSeq: number;
      online: string[];
      process: string;
      retained: number;
    },
    timing: { heartbeatInterval: number; deadAfter: number; room: string },
    onError: (error: unknown) => void,
  ) {
    this.#commands = commands;
    this.#reader = commands.duplicate();
    this.#keys = keys;
    this.#epoch = state.epoch;
    this.#after = `0-${state.lastSeq}`;
    this.#room = timing.room;
    this.history = state.history;
    this.lastSeq = state.lastSeq;
    this.online = state.online;
    this.process = state.process;
    this.#timing = timing;
    this.#retained = state.retained;
    this.#onError = onError;
    // ioredis reconnects by itself; errors between attempts are reported, not thrown.
    for (const client of [commands, this.#reader]) client.on("error", (error) => this.#report(error));
  }

  /** Connects, creates or reads the room's epoch, and reads the recent history. */
  static async open(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
    rejectUnknown(options, REDIS_OPTION_NAMES);
    const { room = "chat", historyLimit = 1000, prefix = "polysocket", onError = console.error } = options;
    const { heartbeatInterval = 1000, deadAfter = 5000 } = options;
    if (!(heartbeatInterval > 0 && deadAfter > heartbeatInterval)) {
      throw new TypeError("heartbeatInterval must be positive and deadAfter longer than it");
    }
    if (!Number.isInteger(historyLimit) || historyLimit < 0) {
      throw new TypeError(
        `options.historyLimit must be a non-negative integer, got ${describe(historyLimit)}`,
      );
    }
    // The braces keep both keys in one Redis Cluster slot, as the publish script needs.
    const base = `${prefix}:{${room}}`;
    const keys: Keys = {
      epoch: `${base}:epoch`,
      stream: `${base}:stream`,
      members: `${base}:members`,
      processes: `${base}:processes`,
    };
    const redisOptions = { lazyConnect: true, ...options.redis } as RedisOptions;
    const commands = options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions);
    // The first connection error says more than the "Connection is closed" that connect() rejects with.
    let firstError: Error | undefined;
    const early = (error: Error) => {
      firstError ??= error;
    };
    commands.on("error", early);
    try {
      await commands.connect();
      const process = randomId();
      await commands.eval(HEARTBEAT, 3, keys.processes, keys.members, keys.epoch, process, deadAfter);
      // One transaction: the history, the last number and who is online, as of the same moment.
      const snapshot = await commands
        .multi()
        .set(keys.epoch, randomId(), "NX")
        .get(keys.epoch)
        .xrevrange(keys.stream, "+", "-", "COUNT", Math.max(historyLimit, 1))
        .hkeys(keys.members)
        .exec();
      const results = (snapshot ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
      const history = (results[2] as StreamEntry[]).reverse().map(toEntry);
      const state = {
        epoch: results[1] as string,
        history: historyLimit === 0 ? [] : history,
        lastSeq: history.at(-1)?.seq ?? 0,
        online: results[3] as string[],
        process,
        retained: Math.max(historyLimit, MIN_RETAINED),
      };
      return new RedisBroker(commands, keys, state, { heartbeatInterval, deadAfter, room }, onError);
    } catch (error) {
      commands.disconnect();
      const { host, port } = commands.options;
      const reason = (firstError ?? (error as Error)).message;
      throw new Error(`cannot open room "${room}" in Redis at ${host}:${port}: ${reason}`, { cause: error });
    } finally {
      commands.off("error", early);
    }
  }

  /** Id of the room's numbering, shared by every process; changes if Redis lost the room. */
  get epoch(): string {
    return this.#epoch;
  }

  subscribe(listener: BrokerListener): void {
    if (this.#listener) throw new Error("RedisBroker.subscribe: already subscribed");
    this.#listener = listener;
    this.#reading = this.#read();
    this.#heartbeat = setInterval(() => void this.#beat(), this.#timing.heartbeatInterval);
  }

  async publish(text: string, change: PresenceChange = {}): Promise<number> {
    const [kind, member] =
      change.join !== undefined
        ? ["j", change.join]
        : change.leave !== undefined
          ? ["l", change.leave]
          : ["", ""];
    const keys = this.#keys;
    let id: string | null;
    try {
      id = (await this.#commands.eval(
        PUBLISH,
        3,
        keys.epoch,
        keys.stream,
        keys.members,
        this.#epoch,
        this.#retained,
        text,
        kind,
        member,
        this.process,
      )) as string | null;
    } catch (error) {
      if (String((error as Error).message).includes("POLYSOCKET_EPOCH")) void this.#restart();
      throw error;
    }
    return id === null ? 0 : seqOf(id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#reader.disconnect(); // interrupts the blocking read
    await this.#reading;
    // Leaving for good: any member still registered here is announced gone by the others.
    await this.#commands.zrem(this.#keys.processes, this.process).catch(() => undefined);
    await this.#commands.quit().catch(() => this.#commands.disconnect());
  }

  /** Reads the stream after the last id handed over, forever, handing each entry over in order. */
  async #read(): Promise<void> {
    while (!this.#closed) {
      const generation = this.#generation;
      const after = this.#after;
      try {
        const reply = (await this.#reader.xread(
          "COUNT",
          100,
          "BLOCK",
          BLOCK_MS,
          "STREAMS",
          this.#keys.stream,
          after,
        )) as [string, StreamEntry[]][] | null;
        for (const raw of reply?.[0]?.[1] ?? []) {
          if (generation !== this.#generation) break; // read before a restart: read again from the start
          const entry = toEntry(raw);
          if (entry.epoch !== this.#epoch) {
            await this.#restart(); // another process started the room over?
            if (generation !== this.#generation) break;
            this.#after = raw[0]; // no: a stray entry of an older epoch, not part of this room
            continue;
          }
          this.#after = raw[0];
          this.#hand(entry);
        }
      } catch (error) {
        if (this.#closed) return;
        this.#report(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Tells Redis this process is alive; hands over the members of processes that are not. */
  async #beat(): Promise<void> {
    const { processes, members } = this.#keys;
    try {
      const [epoch, orphans, forgotten] = (await this.#commands.eval(
        HEARTBEAT,
        3,
        processes,
        members,
        this.#keys.epoch,
        this.process,
        this.#timing.deadAfter,
      )) as [string, string[], number];
      if (epoch !== this.#epoch) return void (await this.#restart());
      if (forgotten === 1 && !this.#closed) {
        this.#report(
          new Error(`room "${this.#room}": this process was taken for dead; announcing its members again`),
        );
        this.#listener?.revived();
      }
      if (orphans.length > 0 && !this.#closed) this.#listener?.orphaned(orphans);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Redis no longer holds our epoch (it came back empty, or another process
   * already started the room over): adopt the room's new epoch, or create it,
   * read the stream from its start, and tell the room.
   */
  #restart(): Promise<void> {
    this.#restarting ??= (async () => {
      try {
        await this.#commands.set(this.#keys.epoch, randomId(), "NX");
        const epoch = await this.#commands.get(this.#keys.epoch);
        if (epoch === null || epoch === this.#epoch || this.#closed) return;
        this.#epoch = epoch;
        this.#after = "0-0";
        this.#generation++;
        this.#report(
          new Error(`room "${this.#room}" lost its data in Redis: started over as epoch ${epoch}`),
        );
        this.#listener?.restarted(epoch);
      } catch (error) {
        this.#report(error);
      } finally {
        this.#restarting = undefined;
      }
    })();
    return this.#restarting;
  }

  #hand(entry: BrokerEntry): void {
    try {
      this.#listener?.message(entry);
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    if (!this.#closed) this.#onError(error);
  }
}

/**
 * A {@link ChatRoom} whose messages live in Redis: every process that opens the
 * same `room` on the same Redis serves one room. Close it with `room.close()`.
 */
export async function redisChatRoom(
  options: RedisBrokerOptions & Pick<ChatRoomOptions, "onError"> = {},
): Promise<ChatRoom> {
  const broker = await RedisBroker.open(options);
  return new ChatRoom({ historyLimit: options.historyLimit, broker, onError: options.onError });
}

interface Keys {
  readonly epoch: string;
  readonly stream: string;
  readonly members: string;
  readonly processes: string;
}

/** A stream entry: `e` its epoch, `t` the text, `j` or `l` the member it announces as joined or gone. */
function toEntry([id, fields]: StreamEntry): BrokerEntry & { epoch: string } {
  const field = (name: string) => {
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
    return undefined;
  };
  const entry: { seq: number; text: string; epoch: string; join?: string; leave?: string } = {
    seq: seqOf(id),
    text: field("t") ?? "",
    epoch: field("e") ?? "",
  };
  const join = field("j");
  const leave = field("l");
  if (join !== undefined) entry.join = join;
  if (leave !== undefined) entry.leave = leave;
  return entry;
}

/** `0-42` → 42: the room's entries all have 0 as their first half. */
function seqOf(id: string): number {
  const seq = Number(id.slice(id.indexOf("-") + 1));
  if (!id.startsWith("0-") || !Number.isSafeInteger(seq)) throw new Error(`unexpected stream id ${id}`);
  return seq;
}
