/**
 * The client's pure parts, runtime-independent: backoff math (with an injected
 * random source), close-code decisions, option validation, resume URLs.
 */
import { describe, expect, test } from "vitest";
import { backoffCap, backoffDelay, closeDecision } from "../src/client/backoff.ts";
import { connect } from "../src/client/client.ts";
import { resolveClientOptions } from "../src/client/options.ts";
import { SendQueue } from "../src/client/send-queue.ts";
import { parseResume, withResume } from "../src/core/resume-protocol.ts";

const options = { minDelay: 100, maxDelay: 1000, factor: 2 };

describe("client units", () => {
  test("backoff caps grow by factor from minDelay up to maxDelay", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCap(n, options))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  test("full jitter: the delay spans [0, cap] with the random source", () => {
    expect(backoffDelay(3, options, "retry", () => 0)).toBe(0);
    expect(backoffDelay(3, options, "retry", () => 0.5)).toBe(200);
    expect(backoffDelay(3, options, "retry", () => 0.999_999)).toBe(400);
    expect(backoffDelay(9, options, "retry", () => 0.999_999)).toBe(1000);
  });

  test('an unknown option is a TypeError naming the closest known one; resume takes true, false or "auto"', () => {
    expect(() => resolveClientOptions({ maxDelays: 5 } as never)).toThrow(
      new TypeError(
        "options.maxDelays is not an option (did you mean maxDelay?); known: resume, minDelay, maxDelay, factor, maxRetries, connectTimeout, heartbeatInterval, heartbeatTimeout, maxQueued, overflow",
      ),
    );
    expect(() => resolveClientOptions({ resume: "yes" } as never)).toThrow(
      new TypeError('options.resume must be true, false or "auto", got "yes"'),
    );
    expect(resolveClientOptions().resume).toBe("auto");
  });

  test("after 1013 the delay is in [maxDelay / 2, maxDelay], whatever the attempt", () => {
    expect(backoffDelay(1, options, "later", () => 0)).toBe(500);
    expect(backoffDelay(1, options, "later", () => 0.999_999)).toBe(1000);
  });

  test("close codes: which stop, which retry, which wait longer", () => {
    const stop = [1000, 1002, 1003, 1007, 1008, 1009, 1010, 4000, 4500, 4999];
    const retry = [1001, 1005, 1006, 1011, 1012, 1014, 3000, 3999];
    expect(stop.map(closeDecision)).toEqual(stop.map(() => "stop"));
    expect(retry.map(closeDecision)).toEqual(retry.map(() => "retry"));
    expect(closeDecision(1013)).toBe("later");
  });

  test("bad options and URLs throw TypeError naming them", () => {
    expect(() => resolveClientOptions({ factor: 0.5 })).toThrow(
      new TypeError("options.factor must be a number >= 1, got number 0.5"),
    );
    expect(() => resolveClientOptions({ maxQueued: -1 })).toThrow(
      new TypeError("options.maxQueued must be a number >= 0, got number -1"),
    );
    expect(() => resolveClientOptions({ overflow: "drop-all" as never })).toThrow(
      new TypeError('options.overflow must be "drop-newest" or "drop-oldest", got "drop-all"'),
    );
    expect(() => connect("ftp://example.com/")).toThrow(
      new TypeError('url must be a ws:, wss:, http: or https: URL, got "ftp://example.com/"'),
    );
  });

  test("the send queue keeps at most its limit, by either policy", () => {
    const newest = new SendQueue(2, "drop-newest");
    expect(["a", "b", "c"].map((m) => newest.push(m))).toEqual(["queued", "queued", "dropped"]);
    expect(newest.drain()).toEqual(["a", "b"]);
    const oldest = new SendQueue(2, "drop-oldest");
    expect(["a", "b", "c"].map((m) => oldest.push(m))).toEqual(["queued", "queued", "queued"]);
    expect(oldest.drain()).toEqual(["b", "c"]);
    expect(new SendQueue(0, "drop-oldest").push("a")).toBe("dropped");
  });

  test("resume URLs keep the user's query and round-trip the resume point", () => {
    const first = withResume("ws://h/chat?room=1", undefined);
    expect(first).toBe("ws://h/chat?room=1&resume=");
    expect(parseResume(new URL(first).search)).toBe("new");
    const again = withResume("ws://h/chat?room=1", { epoch: "Ab_-9", seq: 42 });
    expect(parseResume(new URL(again).pathname + new URL(again).search)).toEqual({ epoch: "Ab_-9", seq: 42 });
    expect(parseResume("/chat?room=1")).toBeUndefined();
    expect(parseResume("/chat?resume=garbage")).toBe("new");
  });
});
