/**
 * Checks on every incoming message, before any hook sees it: size, rate and
 * the user's `validate`. Shared by every runtime, so limits mean the same everywhere.
 */
import { type Connection, control } from "./connection.ts";
import { policyError } from "./errors.ts";
import { type ErrorSink, hookError } from "./hooks.ts";
import type { Refusal, ResolvedOptions } from "./options.ts";

/** The text a refused message's sender gets by default. */
export function refusalText(reason: string): string {
  return `Invalid message: ${reason}`;
}

/** What happens to one message. */
export type Verdict = "deliver" | "refuse" | "closed";

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

  constructor(options: ResolvedOptions, report: ErrorSink) {
    this.#options = options;
    this.#report = report;
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
    if (!rateLimit && !this.#options.validate) return "deliver";
    const counters = this.#countersOf(conn);
    if (rateLimit && this.#overRate(counters, rateLimit.messages, rateLimit.per)) {
      this.#options.metrics?.refused("rate_limit");
      const reason = `over ${rateLimit.messages} messages per ${rateLimit.per} ms`;
      control.closeFor(conn, 1008, reason, policyError("ERR_RATE_LIMIT", 1008, reason));
      return "closed";
    }
    return this.#validate(conn, data, counters);
  }

  #validate(conn: Connection, data: string | Uint8Array, counters: Counters): Verdict {
    const { validate, maxInvalidMessages } = this.#options;
    if (!validate) return "deliver";
    const verdict = this.#runValidate(validate, conn, data);
    if (verdict === true) {
      counters.invalidStreak = 0;
      return "deliver";
    }
    this.#options.metrics?.refused("invalid_message");
    conn.send(verdict.reply);
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
    data: string | Uint8Array,
  ): true | Refusal {
    try {
      const verdict = validate(conn, data);
      if (verdict === true) return true;
      if (isRefusal(verdict)) return verdict;
      return { reason: String(verdict), reply: refusalText(String(verdict)) };
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

function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && typeof (value as Refusal).reply === "string";
}
