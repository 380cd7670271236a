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
  readonly #dropped: ((message: T) => void) | undefined;

  /**
   * An empty queue of at most `limit` messages, overflowing by `overflow`;
   * `dropped` hears of a waiting message pushed out by "drop-oldest".
   */
  constructor(limit: number, overflow: OverflowPolicy, dropped?: (message: T) => void) {
    this.#limit = limit;
    this.#overflow = overflow;
    this.#dropped = dropped;
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
      const oldest = this.#items.shift() as T;
      this.#dropped?.(oldest);
    }
    this.#items.push(message);
    return "queued";
  }

  /** Takes `message` out of the queue; false if it is not waiting. */
  remove(message: T): boolean {
    const index = this.#items.indexOf(message);
    if (index === -1) return false;
    this.#items.splice(index, 1);
    return true;
  }

  /** Removes and returns every waiting message, oldest first. */
  drain(): T[] {
    return this.#items.splice(0);
  }
}
