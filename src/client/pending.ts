/**
 * Answers the client waits for: a room publish's `ack`/`nack` and a request's
 * `response`. Each is a promise settled once, from outside, with an optional
 * deadline. Its rejection never counts as unhandled: a caller that ignores the
 * promise (fire and forget) is not crashed by a refusal it did not ask about.
 */

/** Why a room publish was not stored (or is not known to be). */
export type PublishErrorCode =
  /** The server refused it for good (final `nack`: `onPublish` threw or dropped it, a bad payload). */
  | "refused"
  /** The room's queue was full while not joined (`maxQueued`, `overflow`): never sent. */
  | "overflow"
  /** No answer within the publish's `timeout` (see {@link PublishError.maybeStored}). */
  | "timeout"
  /** The room was left (`leave()`, or the server's or a refused join's `left`) before an answer. */
  | "left"
  /** The client closed for good before an answer. */
  | "closed";

/** The rejection of `room.publish(...)`: `code` says why, `message` says it in words. */
export class PublishError extends Error {
  /** Why; see {@link PublishErrorCode}. */
  readonly code: PublishErrorCode;
  /**
   * Whether the message may be in the room's history all the same: it was sent
   * and not answered (a timeout after sending, a close or leave while waiting
   * for the `ack`). `false` means it was never stored.
   */
  readonly maybeStored: boolean;

  /** A publish error of `code`, saying `message`. */
  constructor(code: PublishErrorCode, message: string, maybeStored: boolean) {
    super(message);
    this.name = "PublishError";
    this.code = code;
    this.maybeStored = maybeStored;
  }
}

/** Why a `client.request(...)` failed. */
export type RequestErrorCode =
  /** The server's `respond` handler threw (or the server has none): `message` is its error. */
  | "failed"
  /** No response within the request's `timeout`. */
  | "timeout"
  /** The connection was lost after the request was sent: the handler may or may not have run. */
  | "disconnected"
  /** The client closed for good before a response. */
  | "closed";

/** The rejection of `client.request(...)`: `code` says why, `message` says it in words. */
export class RequestError extends Error {
  /** Why; see {@link RequestErrorCode}. */
  readonly code: RequestErrorCode;

  /** A request error of `code`, saying `message`. */
  constructor(code: RequestErrorCode, message: string) {
    super(message);
    this.name = "RequestError";
    this.code = code;
  }
}

/** A promise settled once from outside; after `timeout` ms (if given) it rejects with what `expired` makes. */
export class Pending<T> {
  /** The caller's promise (a rejection is handled here too, so ignoring it is harmless). */
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: Error) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #settled = false;

  /** Pending until settled, or until `timeout` ms have passed (`undefined`: no deadline). */
  constructor(timeout: number | undefined, expired: () => Error) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => undefined);
    if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      this.#timer = setTimeout(() => this.reject(expired()), timeout);
    }
  }

  /** Whether it was resolved or rejected already. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves with `value` (no-op once settled). */
  resolve(value: T): void {
    if (this.#finish()) this.#resolve(value);
  }

  /** Rejects with `error` (no-op once settled). */
  reject(error: Error): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    return true;
  }
}

/** Checks a `timeout` option: `undefined`, or a number > 0 (`Infinity` waits for ever). */
export function checkTimeout(timeout: unknown, name: string): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout <= 0) {
    throw new TypeError(`${name} must be a number > 0 (ms), got ${String(timeout)}`);
  }
  return timeout;
}
