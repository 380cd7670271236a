/**
 * The `metrics` option in the core: validation (exact TypeErrors), a partial
 * observer, and what each fan-out path reports: one call per publish, whatever
 * its recipients, with UTF-8 payload sizes.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { type MetricsObserver, OBSERVER_METHODS, utf8Length } from "../../src/core/observer.ts";
import type { ServerOptions } from "../../src/core/options.ts";
import { FakeServer, until, WIRES } from "./fake-runtime.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** An observer that records every call by name, and the options of a server using it. */
function recording(options: ServerOptions = {}) {
  const calls: string[] = [];
  const metrics: Record<string, (...args: unknown[]) => void> = {};
  for (const name of OBSERVER_METHODS) {
    metrics[name] = (...args) => void calls.push(args.length ? `${name}(${args.join(",")})` : name);
  }
  const heartbeat: ServerOptions["heartbeat"] = options.heartbeat ?? false;
  return { calls, options: { ...options, heartbeat, metrics: metrics as MetricsObserver } };
}

const KNOWN = OBSERVER_METHODS.join(", ");

describe("metrics option", () => {
  test.each([
    [5, "options.metrics must be an object of observer methods, got number 5"],
    [null, "options.metrics must be an object of observer methods, got null"],
    [
      { connectionOpen() {} },
      `options.metrics.connectionOpen is not an option (did you mean connectionOpened?); known: ${KNOWN}`,
    ],
    [{ published: 1 }, "options.metrics.published must be a function, got number 1"],
  ])("rejects %o", (metrics, message) => {
    expect(() => new FakeServer({ metrics } as ServerOptions)).toThrow(new TypeError(message));
  });

  test("utf8Length counts UTF-8 bytes exactly (pairs 4, lone surrogates 3 as sent)", () => {
    // Over 16,384 units too: sized in chunks, a pair at a chunk's end kept whole.
    const long = [
      "x".repeat(40_000),
      `a${"🙂".repeat(16_383)}b`,
      "é".repeat(16_385),
      `${"x".repeat(16_383)}\ud800`,
    ];
    for (const text of ["", "ascii", "héllo", "€", "🙂", "a🙂b€é", "\ud800", "x\udc00y", ...long]) {
      const sent = new TextEncoder().encode(text).length;
      expect(utf8Length(text), JSON.stringify(text.slice(0, 20))).toBe(sent);
    }
  });

  for (const kind of WIRES) {
    test(`[${kind} wire] a partial observer; a publish to 3 is one call (3 deliveries of its bytes)`, async () => {
      const calls: unknown[][] = [];
      const metrics = {
        published: (deliveries: number, bytes: number) => calls.push(["published", deliveries, bytes]),
        messageSent: (bytes: number) => calls.push(["sent", bytes]),
        subscribed: (first: boolean) => calls.push(["subscribed", first]),
      };
      const server = await FakeServer.start({ metrics }, kind);
      const peers = [await server.connect(), await server.connect(), await server.connect()];
      for (const { conn } of peers) conn.subscribe("t");
      expect(server.publish("t", "héllo")).toBe(3);
      peers[0]!.conn.send("€");
      expect(calls).toEqual([
        ["subscribed", true],
        ["subscribed", false],
        ["subscribed", false],
        ["published", 3, 6],
        ["sent", 3],
      ]);
    });
  }

  test("upgrade refusals by reason: origin, capacity, rejected (status, closeCode, throw), shutting_down", async () => {
    const { calls, options } = recording({
      allowedOrigins: ["https://ok.example"],
      maxConnections: 1,
      onError: () => undefined,
      onUpgrade(request) {
        if (request.url === "/?status") return { status: 401 };
        if (request.url === "/?code") return { status: 401, closeCode: 4401 };
        if (request.url === "/?throw") throw new Error("boom");
      },
    });
    const server = await FakeServer.start(options);
    await server.route("/", { origin: "https://evil.example" });
    await server.route("/?status");
    await server.route("/?code");
    await server.route("/?throw");
    await server.route("/?accepted"); // onUpgrade accepts: no refusal
    const { conn } = await server.connect("/?accepted");
    await server.route("/"); // full
    const plain = await server.route("/", { upgrade: undefined, connection: undefined });
    expect(plain).toMatchObject({ upgrade: false, status: 426 }); // a plain request is no refusal
    const closing = server.close({ timeout: 100 });
    await server.route("/");
    server.peerClose(conn, 1001);
    await closing;
    expect(calls.filter((call) => call.startsWith("refused"))).toEqual([
      "refused(origin)",
      "refused(rejected)",
      "refused(rejected)",
      "refused(rejected)",
      "refused(capacity)",
      "refused(shutting_down)",
    ]);
    expect(calls.filter((call) => call.startsWith("connection"))).toEqual([
      "connectionOpened",
      "connectionClosed(1001)",
    ]);
  });

  test("message refusals by reason: payload_too_large, rate_limit, invalid_message, binary_unsupported", async () => {
    const { calls, options } = recording({
      maxPayload: 8,
      rateLimit: { messages: 2, per: 60_000 },
      validate: (_conn, message) => (message === "bad" ? "no" : true),
    });
    const server = await FakeServer.start(options);
    const big = (await server.connect()).conn;
    server.receive(big, "123456789");
    const fast = (await server.connect()).conn;
    for (const text of ["a", "bad", "c"]) server.receive(fast, text);
    const binary = (await server.connect()).conn;
    server.receive(binary, new Uint8Array([1, 2]));
    expect(calls.filter((call) => call.startsWith("refused") || call.startsWith("message"))).toEqual([
      "messageReceived(9)",
      "refused(payload_too_large)",
      "messageReceived(1)",
      "messageReceived(3)",
      "refused(invalid_message)",
      `messageSent(${utf8Length("Invalid message: no")})`, // the refusal's reply
      "messageReceived(1)",
      "refused(rate_limit)",
      "messageReceived(2)",
      "refused(binary_unsupported)",
    ]);
  });

  test("backpressure: a drop under policy drop, a close under policy close", async () => {
    const drop = recording({ backpressure: { limit: 100, policy: "drop" } });
    const dropping = await FakeServer.start(drop.options);
    const a = await dropping.connect();
    a.transport.bufferedAmount = 100;
    expect(a.conn.send("x")).toBe(false);
    expect(drop.calls).toContain("backpressureDropped");
    expect(drop.calls.filter((call) => call.startsWith("messageSent"))).toEqual([]);

    const close = recording({ backpressure: { limit: 100, policy: "close" } });
    const closing = await FakeServer.start(close.options);
    const b = await closing.connect();
    b.transport.bufferedAmount = 100;
    expect(b.conn.send("x")).toBe(false);
    expect(b.conn.send("y")).toBe(false);
    expect(close.calls.filter((call) => call.startsWith("backpressure"))).toEqual(["backpressureClosed"]);
  });

  test("a heartbeat timeout is reported once, then the 1006 close", async () => {
    vi.useFakeTimers();
    const { calls, options } = recording({ heartbeat: { interval: 100, timeout: 50 } });
    const server = await FakeServer.start(options);
    await server.connect();
    await vi.advanceTimersByTimeAsync(150);
    await until(() => calls.includes("connectionClosed(1006)"), "the close after the timeout");
    expect(
      calls.filter((call) => call.startsWith("heartbeat") || call.startsWith("connectionClosed")),
    ).toEqual(["heartbeatTimedOut", "connectionClosed(1006)"]);
    await server.close();
  });

  test("topics: the first subscriber and the last to leave are flagged, also when a connection ends", async () => {
    const { calls, options } = recording();
    const server = await FakeServer.start(options);
    const a = (await server.connect()).conn;
    const b = (await server.connect()).conn;
    a.subscribe("t");
    b.subscribe("t");
    a.subscribe("u");
    a.unsubscribe("t");
    server.peerClose(a);
    await until(() => calls.includes("connectionClosed(1000)"), "a's close");
    b.unsubscribe("t");
    expect(calls.filter((call) => /subscribed/.test(call))).toEqual([
      "subscribed(true)",
      "subscribed(false)",
      "subscribed(true)",
      "unsubscribed(false)",
      "unsubscribed(true)", // u, as a ended
      "unsubscribed(true)",
    ]);
  });
});
