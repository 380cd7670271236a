/**
 * Where a client stands in one numbered stream (a `ChatRoom`'s, or one room of
 * a `Rooms` server): the stream's epoch and the last sequence number delivered.
 * Both the single-room client and each room handle keep one, so that
 * "delivered once, in order" and "a new epoch is a restart" are decided in one place.
 */
import type { GapEvent } from "./events.ts";

/** One stream's resume point, and the rules that move it. */
export class StreamPosition {
  /** The stream's numbering, once known. */
  epoch: string | undefined;
  /** The last sequence number delivered (0 before any). */
  lastSeq = 0;

  /** Whether message `seq` is new; it then counts as delivered. At or below the last one: delivered before. */
  take(seq: number): boolean {
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    return true;
  }

  /** Messages up to `to` are gone for good (a `gap` frame): they count as passed. */
  skip(to: number): void {
    this.lastSeq = Math.max(this.lastSeq, to);
  }

  /**
   * The restart's gap if `epoch` is not the stream's known one (its numbering
   * started over: what came after our point is unknowable); `undefined` otherwise.
   */
  restartBy(epoch: string): GapEvent | undefined {
    if (this.epoch === undefined || this.epoch === epoch) return undefined;
    return { reason: "restart", after: this.lastSeq };
  }

  /** Adopts `epoch`; after a restart ({@link restartBy}) the count starts over at 0. */
  adopt(epoch: string): void {
    if (this.restartBy(epoch)) this.lastSeq = 0;
    this.epoch = epoch;
  }

  /** The resume point to send, or `undefined` before the stream is known. */
  get point(): { epoch: string; seq: number } | undefined {
    return this.epoch === undefined ? undefined : { epoch: this.epoch, seq: this.lastSeq };
  }
}
