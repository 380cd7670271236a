/**
 * Drain notices: congested connections are polled until their buffer is
 * empty. No runtime offers one drain event for both direct sends and native
 * broadcasts, so one small poll (only while something is congested) serves all.
 */
import type { Connection } from "./connection.ts";

const POLL_MS = 20;

/** Calls `onDrain` once a congested connection has written everything. */
export class DrainWatch {
  readonly #onDrain: (conn: Connection) => void;
  readonly #congested = new Set<Connection>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(onDrain: (conn: Connection) => void) {
    this.#onDrain = onDrain;
  }

  add(conn: Connection): void {
    this.#congested.add(conn);
    this.#timer ??= setInterval(() => this.#poll(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#congested.clear();
  }

  #poll(): void {
    for (const conn of this.#congested) {
      if (conn.state !== "open") this.#congested.delete(conn);
      else if (conn.bufferedAmount === 0) {
        this.#congested.delete(conn);
        this.#onDrain(conn);
      }
    }
    if (this.#congested.size === 0) this.stop();
  }
}
