/**
 * A room's outgoing publishes, exactly once: each goes out numbered in the
 * room's session (1, 2, 3…, the server's `ref`), is kept until the server
 * acknowledges it, and is sent again, in order, after every rejoin and after a
 * `nack` that says a retry may work. The server stores each number once, so a
 * resend never makes a duplicate. Publishes made while not joined wait, unnumbered,
 * in a bounded queue (numbers are given only on sending, so dropping a waiting
 * one never leaves a hole the server would wait for).
 */
import type { ClientFrame } from "../core/resume-protocol.ts";
import type { JsonValue, RoomData } from "../core/rooms/store.ts";
import { type Pending, PublishError, type PublishErrorCode } from "./pending.ts";
import { type OverflowPolicy, SendQueue, type SendResult } from "./send-queue.ts";

/**
 * A publish as it goes on the wire (text or JSON value, or base64 with
 * `binary`), as it was given, and the caller's answer (the seq, or why not).
 */
export interface Outgoing {
  readonly wire: { readonly data: JsonValue; readonly binary?: true };
  readonly data: RoomData;
  readonly answer: Pending<number>;
}

/** What the outbox needs from its room and client. */
export interface OutboxLink {
  /** Sends `frame` now if the connection is welcomed; false when there is none. */
  write(frame: ClientFrame): boolean;
  /** The delay before resend attempt `attempt` (1-based) after a retryable `nack`, in ms. */
  retryDelay(attempt: number): number;
  /** Publishes that may wait while not joined, and what to drop when full. */
  readonly queue: { readonly limit: number; readonly overflow: OverflowPolicy };
}

/** The publishes of one room handle. */
export class Outbox {
  readonly #room: string;
  readonly #link: OutboxLink;
  /** Publishes not sent yet (no number). */
  readonly #waiting: SendQueue<Outgoing>;
  /** Publishes sent and not acknowledged, by number, in order. */
  #sent = new Map<number, Outgoing>();
  #session = newSession();
  #next = 1;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;

  /** An empty outbox for `room`. */
  constructor(room: string, link: OutboxLink) {
    this.#room = room;
    this.#link = link;
    this.#waiting = new SendQueue<Outgoing>(link.queue.limit, link.queue.overflow, overflowed);
  }

  /** Publishes not acknowledged yet: waiting, or sent and unanswered. */
  get size(): number {
    return this.#waiting.size + this.#sent.size;
  }

  /** Sends `item` now if `joined` and the connection takes it, else queues it. */
  publish(item: Outgoing, joined: boolean): SendResult {
    if (joined && this.#send(item)) return "sent";
    const result = this.#waiting.push(item);
    if (result === "dropped") overflowed(item);
    return result;
  }

  /** Takes `item` back if it was not sent yet (its deadline passed); false once it has a number. */
  withdraw(item: Outgoing): boolean {
    return this.#waiting.remove(item);
  }

  /**
   * The server confirmed the join on this connection: what is unacknowledged
   * goes again, in order, then what waited. After a restart (`restarted`), the
   * room's numbering was lost with its store: a new session numbers them from 1.
   */
  joined(restarted: boolean): void {
    clearTimeout(this.#retryTimer);
    if (restarted) this.#renumber();
    this.#resend();
    for (const item of this.#waiting.drain()) {
      if (!this.#send(item)) this.#waiting.push(item);
    }
  }

  /** The connection is gone: no resend until the next `joined`. */
  disconnected(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** `ack` of number `ref`: resolves with what was published, or `undefined` for a repeat answer. */
  acked(ref: unknown): Outgoing | undefined {
    const item = typeof ref === "number" ? this.#sent.get(ref) : undefined;
    if (item === undefined) return undefined;
    this.#sent.delete(ref as number);
    this.#attempt = 0;
    return item;
  }

  /**
   * `nack` of number `ref`. Without `retry` it was refused for good (its number
   * is used up) and is returned; with `retry`, everything unacknowledged goes
   * again after a backoff delay, and `undefined` is returned.
   */
  refused(ref: unknown, retry: boolean): Outgoing | undefined {
    const item = typeof ref === "number" ? this.#sent.get(ref) : undefined;
    if (item === undefined) return undefined;
    if (!retry) {
      this.#sent.delete(ref as number);
      return item;
    }
    if (this.#retryTimer === undefined) {
      this.#retryTimer = setTimeout(
        () => {
          this.#retryTimer = undefined;
          this.#resend();
        },
        this.#link.retryDelay(++this.#attempt),
      );
    }
    return undefined;
  }

  /**
   * Forgets everything (the room was left, or the client closed: `code`,
   * `why`): each caller still waiting is told, with whether it may be stored.
   */
  clear(code: PublishErrorCode, why: string): void {
    this.disconnected();
    for (const item of this.#waiting.drain()) {
      item.answer.reject(new PublishError(code, `not sent: ${why}`, false));
    }
    for (const item of this.#sent.values()) {
      item.answer.reject(new PublishError(code, `no answer before ${why}: it may have been stored`, true));
    }
    this.#sent.clear();
  }

  #send(item: Outgoing): boolean {
    const ref = this.#next;
    if (!this.#link.write(this.#frame(ref, item))) return false;
    this.#next++;
    this.#sent.set(ref, item);
    return true;
  }

  #resend(): void {
    for (const [ref, item] of this.#sent) {
      if (!this.#link.write(this.#frame(ref, item))) return;
    }
  }

  #renumber(): void {
    const items = [...this.#sent.values()];
    this.#session = newSession();
    this.#sent = new Map(items.map((item, i) => [i + 1, item]));
    this.#next = items.length + 1;
  }

  #frame(ref: number, { wire }: Outgoing): ClientFrame {
    return { type: "publish", room: this.#room, ...wire, ref, session: this.#session };
  }
}

/** A waiting publish pushed out of a full queue: its caller is told. */
function overflowed(item: Outgoing): void {
  item.answer.reject(new PublishError("overflow", "not sent: the room's queue is full (maxQueued)", false));
}

/** A random session id: 128 bits, URL-safe (what the server accepts: 1 to 64 of [A-Za-z0-9_-]). */
function newSession(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
