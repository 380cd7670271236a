/**
 * Idle timeouts: one lazily re-armed timer per connection, so a busy
 * connection costs a timestamp per message, not a timer.
 */
import type { Connection } from "./connection.ts";

interface Watch {
  lastSeen: number;
  timer: ReturnType<typeof setTimeout>;
}

/** Closes connections that sent nothing for `timeout` milliseconds. */
export class IdleWatch {
  readonly #timeout: number;
  readonly #onIdle: (conn: Connection) => void;
  readonly #watches = new Map<Connection, Watch>();

  constructor(timeout: number, onIdle: (conn: Connection) => void) {
    this.#timeout = timeout;
    this.#onIdle = onIdle;
  }

  /** Starts watching a new connection. */
  watch(conn: Connection): void {
    const watch: Watch = { lastSeen: Date.now(), timer: this.#arm(conn, this.#timeout) };
    this.#watches.set(conn, watch);
  }

  /** The connection sent something. */
  seen(conn: Connection): void {
    const watch = this.#watches.get(conn);
    if (watch) watch.lastSeen = Date.now();
  }

  forget(conn: Connection): void {
    clearTimeout(this.#watches.get(conn)?.timer);
    this.#watches.delete(conn);
  }

  #arm(conn: Connection, delay: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => this.#check(conn), delay);
  }

  #check(conn: Connection): void {
    const watch = this.#watches.get(conn);
    if (!watch) return;
    const quiet = Date.now() - watch.lastSeen;
    if (quiet < this.#timeout) {
      watch.timer = this.#arm(conn, this.#timeout - quiet);
      return;
    }
    this.forget(conn);
    this.#onIdle(conn);
  }
}
