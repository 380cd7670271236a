/**
 * `ChatRoom`: the seed's chat semantics, with a bounded history and a
 * newcomer who sees every message exactly once.
 */
import type { Connection } from "./connection.ts";

/** Options of a {@link ChatRoom}. */
export interface ChatRoomOptions {
  /** Messages kept for newcomers; the oldest go first. Default 1000. */
  historyLimit?: number;
}

/** A room of connections sharing one message stream and its recent history. */
export class ChatRoom {
  /** Members by connection id. */
  readonly clients: Map<string, Connection> = new Map();
  readonly #history: string[] = [];
  readonly #limit: number;

  /** Creates an empty room; throws `TypeError` for a bad `historyLimit`. */
  constructor(options: ChatRoomOptions = {}) {
    const { historyLimit = 1000 } = options;
    if (!Number.isInteger(historyLimit) || historyLimit < 0) {
      throw new TypeError(`historyLimit must be a non-negative integer, got ${String(historyLimit)}`);
    }
    this.#limit = historyLimit;
  }

  /** The most recent messages, oldest first, at most `historyLimit` of them. */
  get messageHistory(): readonly string[] {
    return this.#history;
  }

  /** Records `message` in the history and sends it to every member. */
  broadcast(message: string): void {
    this.#history.push(message);
    if (this.#history.length > this.#limit) this.#history.shift();
    for (const client of this.clients.values()) client.send(message);
  }

  /** Replays the history to `conn` once, then admits it and announces the join. */
  addClient(conn: Connection): void {
    for (const message of this.#history) conn.send(message);
    this.clients.set(conn.id, conn);
    this.broadcast(`User ${conn.id} joined the chat`);
  }

  /** Removes `conn` and announces the leave to the others. */
  removeClient(conn: Connection): void {
    if (!this.clients.delete(conn.id)) return;
    this.broadcast(`User ${conn.id} left the chat`);
  }
}
