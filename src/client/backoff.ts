/**
 * When to retry, and after how long: exponential backoff with full jitter, and
 * the decision by close code.
 */

/** The backoff settings, as in {@link ClientOptions}. */
export interface BackoffOptions {
  /** Milliseconds: the upper bound of the first delay. */
  readonly minDelay: number;
  /** Milliseconds: the largest delay. */
  readonly maxDelay: number;
  /** Growth of the bound per failed attempt. */
  readonly factor: number;
}

/** What a close code means for reconnecting. */
export type CloseDecision = "stop" | "retry" | "later";

/** Codes after which reconnecting cannot help: the server meant it, or the client is at fault. */
const STOP_CODES = new Set([1000, 1002, 1003, 1007, 1008, 1009, 1010]);

/** The upper bound of the delay before reconnect attempt `attempt` (1-based). */
export function backoffCap(attempt: number, options: BackoffOptions): number {
  return Math.min(options.maxDelay, options.minDelay * options.factor ** (attempt - 1));
}

/**
 * The delay before reconnect attempt `attempt` (1-based), in ms: "full jitter",
 * uniformly random in [0, cap], so clients dropped together do not return together.
 * After 1013 ("try again later") it is random in [maxDelay / 2, maxDelay] instead.
 *
 * @example
 * ```ts
 * backoffDelay(3, { minDelay: 500, maxDelay: 30_000, factor: 2 }); // somewhere in 0..2000
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  decision: CloseDecision = "retry",
  random: () => number = Math.random,
): number {
  if (decision === "later") return Math.round(options.maxDelay * (0.5 + random() / 2));
  return Math.round(random() * backoffCap(attempt, options));
}

/**
 * Whether to reconnect after the server (or the network) closed with `code`:
 * "stop" for 1000, 1002, 1003, 1007, 1008, 1009, 1010 and application codes
 * 4000-4999; "later" for 1013; "retry" for everything else (1001, 1005, 1006, 1011, 1012, ...).
 */
export function closeDecision(code: number): CloseDecision {
  if (STOP_CODES.has(code) || (code >= 4000 && code <= 4999)) return "stop";
  return code === 1013 ? "later" : "retry";
}
