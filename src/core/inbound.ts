/**
 * Checks on every incoming message, before any hook sees it: size, rate, the
 * `messages` format (JSON, a schema) and the user's `validate`. Shared by every
 * runtime, so limits mean the same everywhere.
 */
import { type Connection, control } from "./connection.ts";
import { policyError } from "./errors.ts";
import { type ErrorSink, hookError, isThenable } from "./hooks.ts";
import { MALFORMED, MALFORMED_REASON, outcome, parseJson } from "./json-messages.ts";
import type { Refusal, ResolvedOptions } from "./options.ts";
import type { StandardResult, StandardSchemaV1 } from "./standard-schema.ts";

/** The text a refused message's sender gets by default. */
export function refusalText(reason: string): string {
  return `Invalid message: ${reason}`;
}

/** What happens to one message. */
export type Verdict = "deliver" | "refuse" | "closed";

/**
 * Hands an accepted message on: the frame as it came (text or bytes, which
 * picks the hook) and the value the hook gets (the frame, or its parsed value).
 */
export type Deliver = (conn: Connection, frame: string | Uint8Array, value: unknown) => void;

/** A refusal of the schema's own making: it threw, rejected, or answered with no result. */
const SCHEMA_FAILED: Refusal = { reason: "validation failed", reply: refusalText("validation failed") };

interface Counters {
  windowStart: number;
  inWindow: number;
  invalidStreak: number;
}

/** Per-server inbound policy; keeps small counters per connection. */
export class InboundPolicy {
  readonly #options: ResolvedOptions;
  readonly #report: ErrorSink;
  readonly #counters = new WeakMap<Connection, Counters>();
  /**
   * Whether text is parsed (`messages` "json" or a schema): then `check` does
   * size and rate only, at arrival, and {@link accept} the rest, in order.
   */
  readonly parses: boolean;
  readonly #schema: StandardSchemaV1 | undefined;

  constructor(options: ResolvedOptions, report: ErrorSink) {
    this.#options = options;
    this.#report = report;
    this.parses = options.messages !== "text";
    this.#schema = typeof options.messages === "string" ? undefined : options.messages;
  }

  /** Decides on one message; closes the connection itself when a limit is broken. */
  check(conn: Connection, data: string | Uint8Array): Verdict {
    const { maxPayload, rateLimit } = this.#options;
    if (byteLength(data, maxPayload) > maxPayload) {
      this.#options.metrics?.refused("payload_too_large");
      const reason = `message over ${maxPayload} bytes`;
      control.closeFor(conn, 1009, reason, policyError("ERR_PAYLOAD_TOO_LARGE", 1009, reason));
      return "closed";
    }
    // Counters exist only for servers that need them: no per-connection cost otherwise.
    if (!rateLimit && (this.parses || !this.#options.validate)) return "deliver";
    const counters = this.#countersOf(conn);
    if (rateLimit && this.#overRate(counters, rateLimit.messages, rateLimit.per)) {
      this.#options.metrics?.refused("rate_limit");
      const reason = `over ${rateLimit.messages} messages per ${rateLimit.per} ms`;
      control.closeFor(conn, 1008, reason, policyError("ERR_RATE_LIMIT", 1008, reason));
      return "closed";
    }
    return this.parses ? "deliver" : this.#validate(conn, data, counters);
  }

  /**
   * The rest of the checks when text is parsed, run once the connection's earlier
   * messages are done: parses text as JSON, runs the schema, then `validate`, and
   * hands what passed to `deliver` (bytes get `validate` only). Returns a promise
   * only when the schema answered with one; it never rejects, and the caller
   * holds the connection's later messages until it settles, so none overtakes it.
   */
  accept(conn: Connection, frame: string | Uint8Array, deliver: Deliver): Promise<void> | undefined {
    const counters = this.#countersOf(conn);
    // Closed for invalid messages: what arrived before the close reaches nobody.
    if (counters.invalidStreak >= this.#options.maxInvalidMessages) return undefined;
    if (typeof frame !== "string") return this.#finish(conn, frame, frame, counters, deliver);
    const value = parseJson(frame);
    if (value === MALFORMED) return void this.#refuse(conn, counters, refusalOf(MALFORMED_REASON));
    const schema = this.#schema;
    if (!schema) return this.#finish(conn, frame, value, counters, deliver);
    let result: StandardResult<unknown> | Promise<StandardResult<unknown>>;
    try {
      result = schema["~standard"].validate(value);
    } catch (error) {
      return this.#schemaFailed(conn, counters, error);
    }
    // A sync schema stays on this path: no promise, no closure per message.
    if (!isThenable(result)) return this.#settle(conn, frame, result, counters, deliver);
    return Promise.resolve(result).then(
      (settled) => this.#settle(conn, frame, settled, counters, deliver),
      (error: unknown) => this.#schemaFailed(conn, counters, error),
    );
  }

  #settle(
    conn: Connection,
    frame: string,
    result: StandardResult<unknown>,
    counters: Counters,
    deliver: Deliver,
  ): undefined {
    let read: ReturnType<typeof outcome>;
    try {
      read = outcome(result);
    } catch (error) {
      return this.#schemaFailed(conn, counters, error);
    }
    if ("reason" in read) return void this.#refuse(conn, counters, refusalOf(read.reason));
    return this.#finish(conn, frame, read.value, counters, deliver);
  }

  /** A schema that throws, rejects or answers nonsense refuses the message (fail closed), reported. */
  #schemaFailed(conn: Connection, counters: Counters, error: unknown): undefined {
    this.#report(hookError("messages schema", error), conn);
    this.#refuse(conn, counters, SCHEMA_FAILED);
    return undefined;
  }

  #finish(
    conn: Connection,
    frame: string | Uint8Array,
    value: unknown,
    counters: Counters,
    deliver: Deliver,
  ): undefined {
    if (this.#validate(conn, value, counters) === "deliver") deliver(conn, frame, value);
    return undefined;
  }

  #validate(conn: Connection, data: unknown, counters: Counters): Verdict {
    const { validate } = this.#options;
    const verdict = validate ? this.#runValidate(validate, conn, data) : true;
    if (verdict === true) {
      counters.invalidStreak = 0;
      return "deliver";
    }
    return this.#refuse(conn, counters, verdict);
  }

  /** Tells the sender why, and closes with 1008 after `maxInvalidMessages` in a row. */
  #refuse(conn: Connection, counters: Counters, refusal: Refusal): Verdict {
    const { maxInvalidMessages } = this.#options;
    this.#options.metrics?.refused("invalid_message");
    conn.send(refusal.reply);
    if (++counters.invalidStreak >= maxInvalidMessages) {
      const reason = `${maxInvalidMessages} invalid messages in a row`;
      control.closeFor(conn, 1008, reason, policyError("ERR_INVALID_MESSAGE", 1008, reason));
      return "closed";
    }
    return "refuse";
  }

  /** A throwing validator refuses the message (fail closed) and reports the throw. */
  #runValidate(
    validate: NonNullable<ResolvedOptions["validate"]>,
    conn: Connection,
    data: unknown,
  ): true | Refusal {
    try {
      const verdict = validate(conn, data);
      if (verdict === true) return true;
      if (isRefusal(verdict)) return verdict;
      return refusalOf(String(verdict));
    } catch (error) {
      this.#report(hookError("validate", error), conn);
      return { reason: "validation failed", reply: refusalText("validation failed") };
    }
  }

  #overRate(counters: Counters, messages: number, per: number): boolean {
    const now = Date.now();
    if (now - counters.windowStart >= per) {
      counters.windowStart = now;
      counters.inWindow = 0;
    }
    return ++counters.inWindow > messages;
  }

  #countersOf(conn: Connection): Counters {
    let counters = this.#counters.get(conn);
    if (!counters) {
      counters = { windowStart: Date.now(), inWindow: 0, invalidStreak: 0 };
      this.#counters.set(conn, counters);
    }
    return counters;
  }
}

/**
 * UTF-8 size of a message, exact where it matters: a string's UTF-8 size is
 * between its length and three times its length, so most need no counting.
 */
export function byteLength(data: string | Uint8Array, limit: number): number {
  if (typeof data !== "string") return data.byteLength;
  if (data.length > limit || data.length * 3 <= limit) return data.length;
  let bytes = 0;
  for (let i = 0; i < data.length; i++) {
    const unit = data.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A refusal whose sender gets the default text. */
function refusalOf(reason: string): Refusal {
  return { reason, reply: refusalText(reason) };
}

function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && typeof (value as Refusal).reply === "string";
}
