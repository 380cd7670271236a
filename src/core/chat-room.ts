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

/** Longest chat message {@link validateChatMessage} accepts, in characters. */
export const MAX_CHAT_MESSAGE = 2000;

// C0 and C1 control characters, DEL included: they garble other people's screens.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The chat's rule for a message, for the server's `validate` option: non-empty,
 * at most {@link MAX_CHAT_MESSAGE} characters, no control characters.
 *
 * @example
 * ```ts
 * import { Server, validateChatMessage } from "polysocket";
 * const server = new Server({ validate: (_conn, message) => validateChatMessage(message) });
 * ```
 */
export function validateChatMessage(message: string | Uint8Array): true | string {
  if (typeof message !== "string") return "text messages only";
  if (message.trim() === "") return "message is empty";
  if (message.length > MAX_CHAT_MESSAGE) return `message is over ${MAX_CHAT_MESSAGE} characters`;
  if (CONTROL.test(message)) return "message contains control characters";
  return true;
}
