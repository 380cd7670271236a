/**
 * The client's pure parts, runtime-independent: backoff math (with an injected
 * random source), close-code decisions, option validation, resume URLs.
 */
import { describe, expect, test } from "vitest";
import { backoffCap, backoffDelay, closeDecision } from "../src/client/backoff.ts";
import { connect } from "../src/client/client.ts";
import { resolveClientOptions } from "../src/client/options.ts";
import { createDialer } from "../src/client/platform.ts";
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
        "options.maxDelays is not an option (did you mean maxDelay?); known: resume, minDelay, maxDelay, factor, maxRetries, connectTimeout, heartbeatInterval, heartbeatTimeout, maxQueued, overflow, protocols, headers, tls",
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

  test("handshake options: none by default; protocols, headers and tls checked and normalised", () => {
    expect(resolveClientOptions()).toMatchObject({ protocols: [], headers: undefined, tls: undefined });
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const resolved = resolveClientOptions({
      protocols: "chat.v2",
      headers: { Authorization: "Bearer x" },
      tls: { ca: new TextEncoder().encode(pem), rejectUnauthorized: true },
    });
    expect(resolved).toMatchObject({
      protocols: ["chat.v2"],
      headers: { Authorization: "Bearer x" },
      tls: { ca: pem, rejectUnauthorized: true },
    });
    expect(resolveClientOptions({ headers: {} }).headers).toBeUndefined();
  });

  test("bad protocols, headers and tls are a TypeError naming them", () => {
    const bad: [object, string][] = [
      [{ protocols: 2 }, "options.protocols must be a string or an array of strings, got number 2"],
      [
        { protocols: ["ok", "with space"] },
        'options.protocols[1] must be a token (letters, digits and !#$%&\'*+-.^_`|~), got "with space"',
      ],
      [
        { protocols: [""] },
        'options.protocols[0] must be a token (letters, digits and !#$%&\'*+-.^_`|~), got ""',
      ],
      [{ protocols: ["a", "b", "a"] }, 'options.protocols offers "a" twice'],
      [{ headers: "x" }, 'options.headers must be an object of header names to strings, got "x"'],
      [{ headers: { "bad name": "x" } }, 'options.headers: "bad name" is not a header name'],
      [
        { headers: { "X-A": "1\r\nX-B: 2" } },
        'options.headers["X-A"] must be a string without CR, LF or NUL, got "1\\r\\nX-B: 2"',
      ],
      [
        { headers: { "X-A": 1 } },
        'options.headers["X-A"] must be a string without CR, LF or NUL, got number 1',
      ],
      [{ headers: { "X-A": "1", "x-a": "2" } }, 'options.headers sets "x-a" twice'],
      [{ headers: { Host: "h" } }, 'options.headers["Host"] is set by the WebSocket handshake itself'],
      [
        { headers: { "Sec-WebSocket-Protocol": "p" } },
        'options.headers["Sec-WebSocket-Protocol"]: offer subprotocols with options.protocols',
      ],
      [{ tls: "ca.pem" }, 'options.tls must be an object with ca and/or rejectUnauthorized, got "ca.pem"'],
      [{ tls: { cert: "x" } }, "options.tls.cert is not an option; known: ca, rejectUnauthorized"],
      [
        { tls: { ca: "./certs/ca.pem" } },
        'options.tls.ca must be PEM certificates (text with -----BEGIN CERTIFICATE-----, not a file path), got "./certs/ca.pem"',
      ],
      [
        { tls: { ca: new Uint8Array(3) } },
        "options.tls.ca must be PEM certificates (text with -----BEGIN CERTIFICATE-----, not a file path), got 3 bytes",
      ],
      [{ tls: { ca: 5 } }, "options.tls.ca must be PEM certificates (a string or bytes), got number 5"],
      [{ tls: { rejectUnauthorized: "no" } }, 'options.tls.rejectUnauthorized must be a boolean, got "no"'],
    ];
    for (const [options, message] of bad) {
      expect(() => resolveClientOptions(options as never), JSON.stringify(options)).toThrow(
        new TypeError(message),
      );
    }
  });

  test("what a platform cannot honour is a TypeError naming it (browser: headers and tls; Deno: rejectUnauthorized false)", () => {
    const pem = "-----BEGIN CERTIFICATE-----\n";
    const dialer = (options: object, platform: "browser" | "deno" | "bun" | "node") =>
      createDialer(resolveClientOptions(options), platform);
    expect(() => dialer({ headers: { Authorization: "x" } }, "browser")).toThrow(
      new TypeError(
        "options.headers cannot be sent from a browser: its WebSocket cannot set upgrade headers (pass a token in the URL or in the first message)",
      ),
    );
    expect(() => dialer({ tls: { ca: pem } }, "browser")).toThrow(
      new TypeError(
        "options.tls.ca cannot be used in a browser: it trusts its own certificate store (add the CA there)",
      ),
    );
    expect(() => dialer({ tls: { rejectUnauthorized: false } }, "browser")).toThrow(
      new TypeError(
        "options.tls.rejectUnauthorized: false cannot be used in a browser: it checks every certificate against its own store (add the CA there)",
      ),
    );
    expect(() => dialer({ tls: { rejectUnauthorized: false } }, "deno")).toThrow(
      new TypeError(
        "options.tls.rejectUnauthorized: false cannot be used on Deno: it has no per-connection switch (run deno with --unsafely-ignore-certificate-errors=HOST)",
      ),
    );
    // What each platform can do: no throw.
    expect(() => dialer({ protocols: ["a"], tls: { rejectUnauthorized: true } }, "browser")).not.toThrow();
    expect(() => dialer({ headers: { a: "b" }, tls: { ca: pem } }, "deno")).not.toThrow();
    for (const platform of ["bun", "node"] as const) {
      expect(() =>
        dialer({ headers: { a: "b" }, tls: { ca: pem, rejectUnauthorized: false } }, platform),
      ).not.toThrow();
    }
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
