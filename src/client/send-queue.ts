/** The bounded queue of messages sent while the client is not connected. */

/** What happens to a message sent while the queue is full. */
export type OverflowPolicy = "drop-newest" | "drop-oldest";

/** The outcome of `send`: handed to the socket, waiting for a connection, or lost. */
export type SendResult = "sent" | "queued" | "dropped";

/** A FIFO of at most `limit` messages (text, or a room's frames). */
export class SendQueue<T = string> {
  readonly #items: T[] = [];
  readonly #limit: number;
  readonly #overflow: OverflowPolicy;

  /** An empty queue of at most `limit` messages, overflowing by `overflow`. */
  constructor(limit: number, overflow: OverflowPolicy) {
    this.#limit = limit;
    this.#overflow = overflow;
  }

  /** Number of waiting messages. */
  get size(): number {
    return this.#items.length;
  }

  /** Queues `message`; when full, drops it ("drop-newest") or the oldest waiting one ("drop-oldest"). */
  push(message: T): SendResult {
    if (this.#limit === 0) return "dropped";
    if (this.#items.length >= this.#limit) {
      if (this.#overflow === "drop-newest") return "dropped";
      this.#items.shift();
    }
    this.#items.push(message);
    return "queued";
  }

  /** Removes and returns every waiting message, oldest first. */
  drain(): T[] {
    return this.#items.splice(0);
  }
}
