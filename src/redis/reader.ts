/**
 * The store's one subscriber connection: it SUBSCRIBEs the channel of every
 * room open in this process. Classic Pub/Sub reaches a subscriber on any node
 * of a Redis Cluster (PUBLISH is broadcast over the cluster bus), so one
 * connection serves every room wherever its slot lives, unlike one XREAD over
 * several streams, which a cluster refuses (CROSSSLOT).
 *
 * Pub/Sub delivers at most once: what is published while the connection is
 * down is lost. So after every (re)connection the reader subscribes again and
 * tells the store (`onReady`), which catches every open room up from its
 * stream; a seq that skips ahead does the same (see room-feed.ts).
 */
import type { Buffer } from "node:buffer";
import { type Cluster, Redis } from "ioredis";

/** Longest wait for the subscriber connection when opening a room, in ms: Redis away longer fails the open. */
const SUBSCRIBE_WAIT_MS = 10_000;
/** Attempts to reconnect to one cluster node before the reader moves to another. */
const NODE_ATTEMPTS = 3;

/** Callbacks of a {@link Reader}. */
export interface ReaderEvents {
  /** A change published on `channel`. */
  message(channel: string, message: Buffer): void;
  /** The reader (re)subscribed after a (re)connection: anything published meanwhile may be lost. */
  resubscribed(): void;
  error(error: unknown): void;
}

/** One subscriber connection (see the module documentation). */
export class Reader {
  readonly #channels = new Set<string>();
  readonly #events: ReaderEvents;
  readonly #source: { standalone: Redis } | { cluster: Cluster };
  #connection!: Redis;
  #connected = false;
  #closed = false;
  /** Wakes up subscribes waiting for a connection. */
  #waiting: (() => void)[] = [];
  #nodeIndex = 0;

  /** Subscribes through a duplicate of `standalone`, or a connection to a node of `cluster`. */
  constructor(source: { standalone: Redis } | { cluster: Cluster }, events: ReaderEvents) {
    this.#source = source;
    this.#events = events;
    this.#connect();
  }

  /** Subscribes to `channel`; resolves once Redis confirmed it (every later PUBLISH arrives). */
  async subscribe(channel: string): Promise<void> {
    this.#channels.add(channel);
    const deadline = Date.now() + SUBSCRIBE_WAIT_MS;
    for (;;) {
      if (this.#closed) throw new Error("the Redis room store is closed");
      if (!this.#connected) {
        if (!(await this.#waitForConnection(deadline))) {
          this.#channels.delete(channel);
          throw new Error(`no subscriber connection to Redis within ${SUBSCRIBE_WAIT_MS} ms`);
        }
        continue;
      }
      const connection = this.#connection;
      try {
        await connection.subscribe(channel);
        return;
      } catch (error) {
        if (connection === this.#connection && this.#connected) throw error;
        // The connection went away meanwhile: subscribe on the next one.
      }
    }
  }

  /** Waits for the connection (true) or the deadline (false). */
  #waitForConnection(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(
        () => {
          this.#waiting = this.#waiting.filter((w) => w !== wake);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      this.#waiting.push(wake);
    });
  }

  /** Stops receiving `channel`. */
  async unsubscribe(channel: string): Promise<void> {
    this.#channels.delete(channel);
    if (this.#connected) await this.#connection.unsubscribe(channel).catch(() => undefined);
  }

  /** Closes the connection. */
  close(): void {
    this.#closed = true;
    this.#connection.disconnect();
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #connect(): void {
    const connection = this.#open();
    this.#connection = connection;
    connection.on("error", (error) => {
      if (!this.#closed) this.#events.error(error);
    });
    connection.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      if (connection === this.#connection) this.#events.message(channel.toString(), message);
    });
    connection.on("ready", () => void this.#ready(connection));
    connection.on("close", () => {
      if (connection === this.#connection) this.#connected = false;
    });
    // A cluster node that stays away: try another (the standalone duplicate retries forever).
    connection.once("end", () => {
      if (!this.#closed && connection === this.#connection) this.#connect();
    });
    connection.connect().catch(() => undefined); // reported through "error"; "end" moves on
  }

  /** Subscribes every open room's channel again, then lets the store catch up. */
  async #ready(connection: Redis): Promise<void> {
    try {
      if (this.#channels.size > 0) await connection.subscribe(...this.#channels);
    } catch (error) {
      if (!this.#closed) this.#events.error(error);
      return; // the connection failed again: its next "ready" retries
    }
    if (connection !== this.#connection || this.#closed) return;
    this.#connected = true;
    for (const wake of this.#waiting.splice(0)) wake();
    this.#events.resubscribed();
  }

  #open(): Redis {
    const common = { lazyConnect: true, autoResubscribe: false, enableOfflineQueue: false } as const;
    if ("standalone" in this.#source) return this.#source.standalone.duplicate(common);
    const cluster = this.#source.cluster;
    const nodes = cluster.nodes("all");
    const node = nodes.length > 0 ? nodes[this.#nodeIndex++ % nodes.length]! : undefined;
    const options = { ...(cluster.options.redisOptions ?? {}), ...common };
    const where = node ? { host: node.options.host, port: node.options.port } : {};
    return new Redis({
      ...options,
      ...where,
      retryStrategy: (times) => (times > NODE_ATTEMPTS ? null : Math.min(times * 100, 1000)),
    });
  }
}
