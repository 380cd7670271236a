/**
 * Ping/pong liveness: one timer per server pings every connection each
 * `interval` and drops those that have not answered within `timeout`.
 */
import { type Connection, control } from "./connection.ts";

/** Pings connections and reports the ones that stopped answering. */
export class Heartbeat {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #connections: () => Iterable<Connection>;
  readonly #onTimeout: (conn: Connection) => void;
  /** Connections with an unanswered ping, and when it was sent. */
  readonly #awaiting = new Map<Connection, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    settings: { interval: number; timeout: number },
    connections: () => Iterable<Connection>,
    onTimeout: (conn: Connection) => void,
  ) {
    this.#interval = settings.interval;
    this.#timeout = settings.timeout;
    this.#connections = connections;
    this.#onTimeout = onTimeout;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), this.#interval);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#awaiting.clear();
  }

  /** The peer proved it is alive (a pong, or any message). */
  alive(conn: Connection): void {
    this.#awaiting.delete(conn);
  }

  #tick(): void {
    const now = Date.now();
    this.#expire(now - this.#timeout);
    for (const conn of this.#connections()) {
      const transport = control.transport(conn);
      if (!transport.ping || this.#awaiting.has(conn) || conn.state !== "open") continue;
      this.#awaiting.set(conn, now);
      transport.ping();
    }
    // A timeout shorter than the interval is checked on its own deadline.
    if (this.#timeout < this.#interval) setTimeout(() => this.#expire(now), this.#timeout);
  }

  /** Drops every connection whose ping was sent at or before `sentBy` and not answered. */
  #expire(sentBy: number): void {
    for (const [conn, sentAt] of this.#awaiting) {
      if (sentAt > sentBy) continue;
      this.#awaiting.delete(conn);
      this.#onTimeout(conn);
    }
  }
}
