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
 * @example
 * ```ts
 * import { Server } from "polysocket";
 * import { redisChatRoom } from "polysocket/redis";
 * const room = await redisChatRoom({ url: "redis://localhost:6379", room: "lobby" });
 * const server = new Server({
 *   port: 8080,
 *   onConnect: (conn) => room.addClient(conn),
 *   onMessage: (conn, message) => room.broadcast(`User ${conn.id}: ${message}`),
 *   onDisconnect: (conn) => room.removeClient(conn),
 * });
 * await server.listen();
 * ```
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";
import type { BrokerEntry, RoomBroker } from "../core/broker.ts";
import { ChatRoom, type ChatRoomOptions } from "../core/chat-room.ts";
import { randomId } from "../core/id.ts";

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
  /**
   * Extra ioredis options (its `RedisOptions`: timeouts, TLS, `maxRetriesPerRequest`,
   * `retryStrategy`…), typed loosely here so that this module's types stand alone.
   */
  redis?: { readonly [option: string]: unknown };
}

// KEYS: epoch, stream. ARGV: epoch, retained, text. Refuses when the epoch is not ours (Redis lost the room).
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('POLYSOCKET_EPOCH the room restarted in Redis (its data was lost); message not stored')
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-*', 't', ARGV[3])`;

/** Pause before reading again after a failed read, in ms. */
const RETRY_MS = 250;
/** Longest `XREAD BLOCK`, in ms: the reader wakes up at least this often. */
const BLOCK_MS = 5000;

type StreamEntry = [id: string, fields: string[]];

/** A {@link RoomBroker} on a Redis Stream; see the module documentation. */
export class RedisBroker implements RoomBroker {
  readonly epoch: string;
  readonly history: readonly BrokerEntry[];
  readonly lastSeq: number;
  readonly #commands: Redis;
  readonly #reader: Redis;
  readonly #keys: { epoch: string; stream: string };
  readonly #retained: number;
  readonly #onError: (error: unknown) => void;
  #deliver: ((entry: BrokerEntry) => void) | undefined;
  #closed = false;
  #reading: Promise<void> | undefined;

  private constructor(
    commands: Redis,
    keys: { epoch: string; stream: string },
    state: { epoch: string; history: BrokerEntry[]; lastSeq: number; retained: number },
    onError: (error: unknown) => void,
  ) {
    this.#commands = commands;
    this.#reader = commands.duplicate();
    this.#keys = keys;
    this.epoch = state.epoch;
    this.history = state.history;
    this.lastSeq = state.lastSeq;
    this.#retained = state.retained;
    this.#onError = onError;
    // ioredis reconnects by itself; errors between attempts are reported, not thrown.
    for (const client of [commands, this.#reader]) client.on("error", (error) => this.#report(error));
  }

  /** Connects, creates or reads the room's epoch, and reads the recent history. */
  static async open(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
    const { room = "chat", historyLimit = 1000, prefix = "polysocket", onError = console.error } = options;
    if (!Number.isInteger(historyLimit) || historyLimit < 0) {
      throw new TypeError(`historyLimit must be a non-negative integer, got ${String(historyLimit)}`);
    }
    // The braces keep both keys in one Redis Cluster slot, as the publish script needs.
    const base = `${prefix}:{${room}}`;
    const keys = { epoch: `${base}:epoch`, stream: `${base}:stream` };
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
      await commands.set(keys.epoch, randomId(), "NX");
      const epoch = (await commands.get(keys.epoch)) as string;
      const latest = (await commands.xrevrange(
        keys.stream,
        "+",
        "-",
        "COUNT",
        Math.max(historyLimit, 1),
      )) as StreamEntry[];
      const history = latest.reverse().map(toEntry);
      const lastSeq = history.at(-1)?.seq ?? 0;
      const retained = Math.max(historyLimit, MIN_RETAINED);
      return new RedisBroker(
        commands,
        keys,
        { epoch, history: historyLimit === 0 ? [] : history, lastSeq, retained },
        onError,
      );
    } catch (error) {
      commands.disconnect();
      const { host, port } = commands.options;
      const reason = (firstError ?? (error as Error)).message;
      throw new Error(`cannot open room "${room}" in Redis at ${host}:${port}: ${reason}`, { cause: error });
    } finally {
      commands.off("error", early);
    }
  }

  subscribe(deliver: (entry: BrokerEntry) => void): void {
    if (this.#deliver) throw new Error("RedisBroker.subscribe: already subscribed");
    this.#deliver = deliver;
    this.#reading = this.#read(`0-${this.lastSeq}`);
  }

  async publish(text: string): Promise<number> {
    const id = (await this.#commands.eval(
      PUBLISH,
      2,
      this.#keys.epoch,
      this.#keys.stream,
      this.epoch,
      this.#retained,
      text,
    )) as string;
    return seqOf(id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.disconnect(); // interrupts the blocking read
    await this.#reading;
    await this.#commands.quit().catch(() => this.#commands.disconnect());
  }

  /** Reads the stream after `lastId`, forever, handing each entry over in order. */
  async #read(lastId: string): Promise<void> {
    let after = lastId;
    while (!this.#closed) {
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
        for (const entry of reply?.[0]?.[1] ?? []) {
          after = entry[0];
          this.#hand(toEntry(entry));
        }
      } catch (error) {
        if (this.#closed) return;
        this.#report(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  #hand(entry: BrokerEntry): void {
    try {
      this.#deliver?.(entry);
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

function toEntry([id, fields]: StreamEntry): BrokerEntry {
  return { seq: seqOf(id), text: fields[1] ?? "" };
}

/** `0-42` → 42: the room's entries all have 0 as their first half. */
function seqOf(id: string): number {
  const seq = Number(id.slice(id.indexOf("-") + 1));
  if (!id.startsWith("0-") || !Number.isSafeInteger(seq)) throw new Error(`unexpected stream id ${id}`);
  return seq;
}
