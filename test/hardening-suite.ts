/**
 * Hardening, on every runtime: limits, heartbeats, timeouts, capacity,
 * backpressure, upgrade checks, validation, hostile input and shutdown.
 */
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { IDLE_TIMEOUT, LIMITS } from "./fixtures/hardened.ts";
import { TestClient } from "./harness/client.ts";
import { within } from "./harness/deadline.ts";
import { Fixture, type FixtureEvent } from "./harness/fixture.ts";
import { fragmented, frame, RawPeer } from "./harness/raw.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

const KiB = 1024;
const disconnectOf = (id: string) => (e: FixtureEvent) => e.ev === "disconnect" && e.id === id;

/** The Node adapter's fragment cap for the "fragments" scenario: max(16,384, maxPayload / 64), maxPayload 8 MiB. */
const FRAGMENT_CAP = 131_072;
/** A 4 MiB message each way through a loaded machine. */
const FRAGMENTS_WAIT_MS = 20_000;

/** The connection's id, asked over the raw peer (`/info`); the answer is the peer's first frame. */
async function connectionId(peer: RawPeer): Promise<string> {
  peer.write(frame(1, Buffer.from("/info")));
  return JSON.parse((await peer.nextFrame()).payload.toString()).id;
}

const closeFrameWith = (code: number, reason = "") =>
  frame(8, Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]));

/** A protocol violation from a raw peer, and the code it closes the connection with. */
interface Violation {
  name: string;
  bytes: () => Buffer;
  code: number;
  /** What Deno's own WebSocket does instead of dropping the connection unannounced, where it does. */
  unannounced?: { wire: number; code: number; closeFrame: true };
}

/** The violations the hostile-input suite sends, with the Autobahn case each stands for. */
const VIOLATIONS: readonly Violation[] = [
  { name: "garbage bytes", bytes: () => Buffer.from("GET / HTTP/1.1\r\n\r\nnot a frame"), code: 1002 },
  {
    name: "invalid UTF-8 in a text frame",
    bytes: () => frame(1, Buffer.from([0xc3, 0x28, 0xff])),
    code: 1007,
  },
  {
    name: "a declared length far over maxPayload",
    bytes: () => frame(2, Buffer.alloc(0), { declaredLength: 1n << 40n }),
    code: 1009,
  },
  { name: "a fragmented control frame", bytes: () => frame(9, Buffer.from("x"), { fin: false }), code: 1002 },
  // 7.9.x and 7.13.x: codes a peer may not send; Deno answers these with a close frame.
  ...[999, 1004, 1005, 1006, 1015, 5000].map((invalid) => ({
    name: `a close frame with code ${invalid}`,
    bytes: () => closeFrameWith(invalid),
    code: 1002,
    unannounced: { wire: 1002, code: 1002, closeFrame: true } as const,
  })),
  {
    name: "a close frame with a 1-byte payload (7.3.2)",
    bytes: () => frame(8, Buffer.from([3])),
    code: 1002,
  },
  { name: "a ping with a 126-byte payload (2.5)", bytes: () => frame(9, Buffer.alloc(126, 1)), code: 1002 },
  {
    // 7.3.6: Deno accepts it and answers the close, echoing the over-long reason.
    name: "a close frame with a 126-byte payload (7.3.6)",
    bytes: () => closeFrameWith(1000, "r".repeat(124)),
    code: 1002,
    unannounced: { wire: 1000, code: 1000, closeFrame: true },
  },
];

/** The `error` of `onDisconnect` for each close code of the violations. */
const ERROR_OF: Record<number, string | undefined> = {
  1002: "ERR_PROTOCOL",
  1007: "ERR_INVALID_DATA",
  1009: "ERR_PAYLOAD_TOO_LARGE",
};
/** The fixture's close timeout in the shutdown test, in ms. */
const CLOSE_TIMEOUT = 300;

/** Upper slack of every timing bound: absorbs a loaded 2-core machine, far below what an ignored option would take. */
const LATE_MS = 1500;
/** Lower slack: timers and clocks round to whole milliseconds. */
const EARLY_MS = 20;

/** When something must happen, in ms after connecting: `[earliest, latest]` (before slack). */
type Window = readonly [earliest: number, latest: number];

/**
 * node:http drops a request whose headers are late at its next connections check, which the
 * Node adapter runs every `min(timeout, 1 s)`.
 */
const nodeHttpCheck = (timeout: number): Window => [timeout, timeout + Math.min(timeout, 1000)];

/** Bun (uSockets) sweeps its socket timeouts every 4 s: `seconds` fire in the sweep window ending at ⌈seconds / 4⌉ × 4 s. */
const bunSweep = (seconds: number): Window => {
  const end = Math.ceil(seconds / 4) * 4000;
  return [end - 4000, end];
};

/** polysocket's own heartbeat (core): a ping at the next tick, the drop at the first check `timeout` after it. */
const coreHeartbeat = ({ interval, timeout }: typeof LIMITS.heartbeat): Window => [
  timeout,
  interval + (timeout < interval ? timeout : Math.ceil(timeout / interval) * interval),
];

/** Deno's native ping (the Deno adapter): it closes a peer silent for ⌈(interval + timeout) / 1 s⌉ seconds. */
const denoPing = ({ interval, timeout }: typeof LIMITS.heartbeat): Window => {
  const seconds = Math.max(1, Math.ceil((interval + timeout) / 1000)) * 1000;
  return [seconds, seconds];
};

interface Capabilities {
  /** The runtime answers a protocol violation with a close frame (Deno's own WebSocket mostly drops the TCP connection). */
  clientSeesCloseFrame: boolean;
  /** `ws` parses the frames: it caps the fragments of one message (the Node adapter sets the cap; Bun and Deno have none). */
  capsFragments: boolean;
  rejectsUnmasked: boolean;
  /**
   * When a connection whose first request never finishes its headers (or that never sends a
   * byte) is dropped, given `handshakeTimeout`; `undefined`: held (docs/runtimes.md).
   */
  stalledRequest: (timeout: number) => Window | undefined;
  /** The same for a request that stalls after a complete one on a kept-alive connection. */
  stalledKeptAlive: (timeout: number) => Window | undefined;
  /** When a peer that stops answering pings is dropped, after its last message. */
  heartbeatDrop: (heartbeat: typeof LIMITS.heartbeat) => Window;
  /** `close({ timeout })` waits for the peer's closing frame (Bun ends the connection with its own at once). */
  awaitsCloseAnswer: boolean;
  /** Close code a slow reader gets when the overflow happens inside a native broadcast. */
  slowBroadcastCode: number;
}

/** What each runtime's WebSocket does with protocol violations and timeouts (docs/runtimes.md). */
const CAPABILITIES: Record<string, Capabilities> = {
  node: {
    clientSeesCloseFrame: true,
    capsFragments: true,
    rejectsUnmasked: true,
    stalledRequest: nodeHttpCheck,
    stalledKeptAlive: nodeHttpCheck,
    heartbeatDrop: coreHeartbeat,
    awaitsCloseAnswer: true,
    slowBroadcastCode: 1013,
  },
  // Bun's native publish closes a slow subscriber itself and reports only 1006.
  bun: {
    clientSeesCloseFrame: true,
    capsFragments: false,
    rejectsUnmasked: true,
    // Bun.serve has no header timeout: before a first request its fixed 10 s applies, whatever the option.
    stalledRequest: () => bunSweep(10),
    // Once a request has arrived, the option applies as Bun's `idleTimeout`, in whole seconds.
    stalledKeptAlive: (timeout) => bunSweep(Math.ceil(timeout / 1000)),
    heartbeatDrop: coreHeartbeat,
    awaitsCloseAnswer: false,
    slowBroadcastCode: 1006,
  },
  // Deno.serve has no header-read timeout and Deno's WebSocket reports protocol errors without a close frame.
  deno: {
    clientSeesCloseFrame: false,
    capsFragments: false,
    rejectsUnmasked: false,
    stalledRequest: () => undefined,
    stalledKeptAlive: () => undefined,
    heartbeatDrop: denoPing,
    awaitsCloseAnswer: true,
    slowBroadcastCode: 1013,
  },
  // ws over Deno's Node layer: ws parses the frames, Deno's node:http keeps the handshake timeouts.
  "deno+node-adapter": {
    clientSeesCloseFrame: true,
    capsFragments: true,
    rejectsUnmasked: true,
    stalledRequest: nodeHttpCheck,
    stalledKeptAlive: nodeHttpCheck,
    heartbeatDrop: coreHeartbeat,
    awaitsCloseAnswer: true,
    slowBroadcastCode: 1013,
  },
};

// Mounted (test/fixtures/mount.ts): as standalone, but the host server owns the HTTP timeouts.
// A node:http host keeps its defaults (headersTimeout 60 s), a Bun.serve host its idleTimeout (10 s).
const hostHolds = () => undefined;
CAPABILITIES["node-mounted"] = {
  ...CAPABILITIES.node!,
  stalledRequest: hostHolds,
  stalledKeptAlive: hostHolds,
};
CAPABILITIES["bun-mounted"] = {
  ...CAPABILITIES.bun!,
  stalledRequest: () => bunSweep(10),
  stalledKeptAlive: () => bunSweep(10),
};
CAPABILITIES["deno-mounted"] = { ...CAPABILITIES.deno! };

/**
 * When we started connecting and when we were connected: no server timer can start before
 * the first, so lower bounds count from it; upper bounds count from the second, so a slow
 * connect does not use up the slack.
 */
interface Span {
  started: number;
  connected: number;
}

/** Runs `connect` and records its {@link Span}. */
async function timed<T>(connect: () => Promise<T>): Promise<[T, Span]> {
  const started = performance.now();
  const value = await connect();
  return [value, { started, connected: performance.now() }];
}

/** Asserts that `what`, happening now, falls in `window` after `span` (with the slack either side). */
function expectInWindow(what: string, span: Span, [earliest, latest]: Window): void {
  const now = performance.now();
  const after = Math.round(now - span.connected);
  const expected = `expected ${what} ${earliest}–${latest} ms after connecting (slack -${EARLY_MS}/+${LATE_MS} ms)`;
  if (now - span.started < earliest - EARLY_MS)
    throw new Error(`${expected}; it came early, after ${after} ms`);
  if (now - span.connected > latest + LATE_MS)
    throw new Error(`${expected}; it came late, after ${after} ms`);
}

/** Resolves once `socket` has stayed open for `ms` after `span`; rejects if it closes before. */
function expectHeld(what: string, socket: Socket, span: Span, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, Math.max(0, span.connected + ms - performance.now()));
    socket.once("close", () => {
      clearTimeout(timer);
      const after = Math.round(performance.now() - span.connected);
      reject(
        new Error(`expected ${what} to be held for ${ms} ms (docs/runtimes.md); dropped after ${after} ms`),
      );
    });
  });
}

export function hardeningSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  const capabilities = CAPABILITIES[variant.name] as Capabilities;
  const fixtures: Fixture[] = [];
  const clients: TestClient[] = [];
  const start = async (scenario: string, env?: Record<string, string>) => {
    const fixture = await Fixture.start(runtime, scenario, { ...variant.env, ...env });
    fixtures.push(fixture);
    return fixture;
  };
  const open = async (fixture: Fixture, query = "", options = {}) => {
    const client = await TestClient.open(`${fixture.url}${query}`, options);
    clients.push(client);
    return client;
  };
  /** Two bystanders still chat: a broadcast from one reaches both. */
  const chatIntact = async (fixture: Fixture) => {
    const [a, b] = [await open(fixture), await open(fixture)];
    a.send("/broadcast still chatting");
    expect(await a.nextText()).toBe("still chatting");
    expect(await b.nextText()).toBe("still chatting");
  };

  afterAll(async () => {
    for (const client of clients) client.socket.terminate();
    await Promise.all(fixtures.map((f) => f.process.stop("SIGKILL")));
  });

  describe(`[${variant.name}] limits and upgrade checks`, () => {
    let fixture: Fixture;
    beforeAll(async () => {
      fixture = await start("limits");
    });

    test("maxPayload: a message at the limit passes, one byte over closes that connection with 1009", async () => {
      const client = await open(fixture);
      const bystander = await open(fixture);
      client.send("a".repeat(64 * KiB));
      expect(await client.nextText()).toHaveLength(64 * KiB);
      const { id } = await client.info();
      client.send("a".repeat(64 * KiB + 1));
      expect((await client.closed).code).toBe(1009);
      expect((await fixture.waitFor(disconnectOf(id))).code).toBe(1009);
      bystander.send("unaffected");
      expect(await bystander.nextText()).toBe("unaffected");
    });

    const heartbeatDrop = capabilities.heartbeatDrop(LIMITS.heartbeat);

    test("heartbeat: a peer that stops answering pings is dropped with 1006, within interval + timeout", async () => {
      const silent = await open(fixture, "", { autoPong: false });
      // Its last message is the /info: count from there.
      const [{ id }, span] = await timed(() => silent.info());
      await silent.closedWithin(heartbeatDrop[1] + LATE_MS);
      expectInWindow("the heartbeat drop", span, heartbeatDrop);
      const event = await fixture.waitFor(disconnectOf(id), "heartbeat drop");
      expect(event).toMatchObject({ code: 1006, error: "ERR_HEARTBEAT_TIMEOUT" });
    });

    test("heartbeat: a peer that answers pings stays connected past the drop window", async () => {
      const [client, span] = await timed(() => open(fixture));
      // A ping arriving after the window a silent peer is dropped in; pings come at least that often.
      const pastDrop = heartbeatDrop[1] + EARLY_MS;
      let pings = 0;
      const pinged = new Promise<void>((resolve) =>
        client.socket.on("ping", () => ++pings && performance.now() - span.started > pastDrop && resolve()),
      );
      await within(
        pinged,
        2 * heartbeatDrop[1] + LATE_MS,
        () => `expected pings past ${pastDrop} ms; got ${pings}`,
      );
      expect(pings, "pings answered").toBeGreaterThanOrEqual(2);
      client.send("after the pings");
      expect(await client.nextText()).toBe("after the pings");
    });

    // All three at once: on Bun the first two take Bun's own 8–12 s, so the third costs nothing more.
    test("handshakeTimeout: a request that never finishes its headers, never sends a byte, or stalls after a kept-alive one is dropped in its window", async () => {
      const timeout = LIMITS.handshakeTimeout;
      const stalled = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n";
      const cases: [string, string, Window | undefined][] = [
        ["a request that never finishes its headers", stalled, capabilities.stalledRequest(timeout)],
        ["a connection that never sends a byte", "", capabilities.stalledRequest(timeout)],
        [
          "a request stalled after a kept-alive one",
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${stalled}`,
          capabilities.stalledKeptAlive(timeout),
        ],
      ];
      // Where it is held, it is held for at least as long as Node would take to drop it.
      const heldFor = nodeHttpCheck(timeout)[1] + LATE_MS;
      const sockets: Socket[] = [];
      const drops = cases.map(async ([what, head, window]) => {
        const deadline = (window?.[1] ?? heldFor) + LATE_MS;
        const [peer, span] = await timed(() => RawPeer.openIncomplete(fixture.port, head, deadline));
        sockets.push(peer.socket);
        const answer: Buffer[] = [];
        peer.socket.on("data", (chunk: Buffer) => answer.push(chunk));
        if (!window) return expectHeld(what, peer.socket, span, heldFor);
        await peer.ended;
        expectInWindow(`${what} to be dropped`, span, window);
        if (!head.includes("\r\n\r\n")) return;
        // The kept-alive case counts only if its first request was answered and the connection kept.
        const [first = ""] = Buffer.concat(answer).toString().toLowerCase().split("\r\n\r\n");
        expect(first, `${what}: the first answer`).toMatch(/^http\/1\.1 \d{3}/);
        expect(first, `${what}: the first answer`).not.toContain("connection: close");
      });
      await Promise.all(drops);
      await chatIntact(fixture); // either way it costs the others nothing
      for (const socket of sockets) socket.destroy();
    });

    test("allowedOrigins: another origin gets 403; the allowed one and non-browsers connect", async () => {
      const refused = TestClient.open(fixture.url, { headers: { origin: "http://evil.example" } });
      await expect(refused).rejects.toMatchObject({ status: 403 });
      await open(fixture, "", { headers: { origin: "http://good.example" } });
      await open(fixture);
    });

    test("onUpgrade: rejects with the user's status and body; a throw gives 500", async () => {
      const refused = TestClient.open(`${fixture.url}?reject`);
      await expect(refused).rejects.toMatchObject({ status: 401, body: "missing token" });
      await expect(TestClient.open(`${fixture.url}?explode`)).rejects.toMatchObject({ status: 500 });
      const error = await fixture.waitFor((e) => e.ev === "error" && e.code === "ERR_HOOK");
      expect(error.message).toBe("onUpgrade failed: upgrade boom");
    });

    test("onUpgrade: attaches conn.data and chooses a subprotocol", async () => {
      const client = await open(fixture, "?user=ann");
      client.send("/data");
      expect(JSON.parse(await client.nextText())).toEqual({ data: { user: "ann" }, protocol: "" });
      const v2 = await TestClient.open(`${fixture.url}?user=bo`, {}, ["chat.v1", "chat.v2"]);
      clients.push(v2);
      expect(v2.socket.protocol).toBe("chat.v2");
      v2.send("/data");
      expect(JSON.parse(await v2.nextText())).toEqual({ data: { user: "bo" }, protocol: "chat.v2" });
    });

    test("validate: an invalid message reaches nobody, the sender is told why; 3 in a row close with 1008", async () => {
      const sender = await open(fixture);
      const other = await open(fixture);
      const { id } = await sender.info();
      sender.send("bad idea");
      expect(await sender.nextText()).toBe("Invalid message: must not start with bad");
      sender.send("/broadcast fine");
      expect(await other.nextText()).toBe("fine"); // the invalid one never reached it
      expect(await sender.nextText()).toBe("fine");
      for (const text of ["bad 1", "bad 2", "bad 3"]) sender.send(text);
      expect((await sender.closed).code).toBe(1008);
      expect(await fixture.waitFor(disconnectOf(id))).toMatchObject({
        code: 1008,
        error: "ERR_INVALID_MESSAGE",
      });
      const seen = fixture
        .events()
        .filter((e) => e.ev === "message" && e.id === id)
        .map((e) => e.text);
      expect(seen).not.toContain("bad idea");
    });

    test("rateLimit: more messages than allowed closes the connection with 1008", async () => {
      const client = await open(fixture);
      const { id } = await client.info(); // message 1 of the 100 allowed
      let echoed = 0;
      // One at a time, so the close never races messages in flight (see docs/runtimes.md on Deno).
      while (client.socket.readyState === client.socket.OPEN) {
        client.send(`m${echoed}`);
        await client.nextText().then(
          () => echoed++,
          () => undefined,
        );
      }
      expect(echoed).toBe(99);
      expect((await client.closed).code).toBe(1008);
      expect(await fixture.waitFor(disconnectOf(id))).toMatchObject({ code: 1008, error: "ERR_RATE_LIMIT" });
    });
  });

  describe(`[${variant.name}] hostile input over raw TCP`, () => {
    let fixture: Fixture;
    beforeAll(async () => {
      fixture = await start("limits");
    });
    const { clientSeesCloseFrame, rejectsUnmasked } = capabilities;
    for (const { name, bytes, code, unannounced } of VIOLATIONS) {
      // What the client reads and what onDisconnect reports; Deno's own WebSocket mostly drops the connection.
      const expected = clientSeesCloseFrame
        ? { wire: code, code, closeFrame: true }
        : (unannounced ?? { wire: undefined, code, closeFrame: false });
      const wire = expected.wire === undefined ? "no close frame" : String(expected.wire);
      test(`${name}: the client reads ${wire}, onDisconnect reports ${expected.code}; the server and other chats carry on`, async () => {
        const peer = await RawPeer.open(fixture.port);
        const id = await connectionId(peer);
        peer.write(bytes());
        expect(await peer.closeCode(), "the close code on the wire").toBe(expected.wire);
        await peer.ended;
        const disconnect = await fixture.waitFor(disconnectOf(id), `onDisconnect of ${id}`);
        const { code: reported, closeFrame, error } = disconnect;
        expect({ code: reported, closeFrame, error }, "onDisconnect").toEqual({
          code: expected.code,
          closeFrame: expected.closeFrame,
          error: ERROR_OF[expected.code],
        });
        expect(
          fixture.events().filter((e) => e.ev === "error" && e.id === id),
          "onError",
        ).toEqual([]);
        await chatIntact(fixture);
      });
    }

    test("an unmasked client frame", async () => {
      const peer = await RawPeer.open(fixture.port);
      peer.write(frame(1, Buffer.from("/info"), { masked: false }));
      if (rejectsUnmasked) expect(await peer.closeCode()).toBe(1002);
      else expect((await peer.nextFrame()).opcode).toBe(1); // Deno accepts it and answers
      peer.socket.destroy();
      await chatIntact(fixture);
    });

    test("a half-sent frame, then silence: the heartbeat drops the peer within interval + timeout", async () => {
      const before = fixture.events().filter((e) => e.error === "ERR_HEARTBEAT_TIMEOUT").length;
      const [peer, span] = await timed(() => RawPeer.open(fixture.port));
      peer.write(frame(1, Buffer.alloc(1000, 97)).subarray(0, 500));
      await peer.ended;
      expectInWindow("the heartbeat drop", span, capabilities.heartbeatDrop(LIMITS.heartbeat));
      await fixture.waitForCount((e) => e.error === "ERR_HEARTBEAT_TIMEOUT", before + 1, "heartbeat drops");
      await chatIntact(fixture);
    });
  });

  describe(`[${variant.name}] fragments`, () => {
    let fixture: Fixture;
    beforeAll(async () => {
      fixture = await start("fragments");
    });
    /** Sends `payload` as one text message in fragments of `size` bytes; `answer`: the server's next frame (the echo, or a close). */
    const sendFragmented = async (payload: Buffer, size: number) => {
      const peer = await RawPeer.open(fixture.port);
      const id = await connectionId(peer);
      peer.write(fragmented(1, payload, size));
      return { peer, id, answer: await peer.frameAt(1, FRAGMENTS_WAIT_MS) };
    };

    test("a 4 MiB message in 64-byte fragments (65,536; Autobahn 9.3.1) arrives whole", async () => {
      const payload = Buffer.alloc(4 * 1024 * KiB, "a");
      const { peer, answer: echo } = await sendFragmented(payload, 64);
      expect(echo.opcode, "the echo (a close frame: the server refused the message)").toBe(1);
      expect(echo.payload.equals(payload), "the echo is the message").toBe(true);
      peer.socket.destroy();
    });

    test(`a message in as many 1-byte fragments as the Node adapter's cap (${FRAGMENT_CAP}) arrives whole`, async () => {
      const payload = Buffer.alloc(FRAGMENT_CAP, "b");
      const { peer, answer: echo } = await sendFragmented(payload, 1);
      expect(echo.opcode, "the echo (a close frame: the server refused the message)").toBe(1);
      expect(echo.payload.length).toBe(FRAGMENT_CAP);
      peer.socket.destroy();
    });

    const over = FRAGMENT_CAP + 1;
    const overOutcome = capabilities.capsFragments ? "closes with 1008 (ws's cap)" : "arrives whole (no cap)";
    test(`a message in ${over} fragments ${overOutcome}`, async () => {
      const { peer, id, answer: echo } = await sendFragmented(Buffer.alloc(over, "c"), 1);
      if (!capabilities.capsFragments) {
        expect(echo.opcode, "the echo").toBe(1);
        expect(echo.payload.length).toBe(over);
        return void peer.socket.destroy();
      }
      expect(await peer.closeCode(), "the close code on the wire").toBe(1008);
      const disconnect = await fixture.waitFor(disconnectOf(id), `onDisconnect of ${id}`);
      expect(disconnect).toMatchObject({ code: 1008, closeFrame: true, error: "ERR_TOO_MANY_FRAGMENTS" });
      expect(
        fixture.events().filter((e) => e.ev === "error" && e.id === id),
        "onError",
      ).toEqual([]);
    });
  });

  describe(`[${variant.name}] capacity, idle, backpressure, shutdown`, () => {
    test("maxConnections: an upgrade beyond it gets 503; a freed slot is reusable", async () => {
      const fixture = await start("capacity");
      const first = await open(fixture);
      await open(fixture);
      await expect(TestClient.open(fixture.url)).rejects.toMatchObject({ status: 503 });
      const { id } = await first.info();
      await first.close();
      await fixture.waitFor(disconnectOf(id));
      await open(fixture);
    });

    test("idleTimeout: a client that sends nothing is closed with 1000 at the timeout", async () => {
      const fixture = await start("idle");
      const [client, span] = await timed(() => open(fixture));
      expect(await client.closedWithin(IDLE_TIMEOUT + LATE_MS)).toEqual({
        code: 1000,
        reason: "idle timeout",
      });
      expectInWindow("the idle close", span, [IDLE_TIMEOUT, IDLE_TIMEOUT]);
      expect(await fixture.waitFor((e) => e.ev === "disconnect")).toMatchObject({
        error: "ERR_IDLE_TIMEOUT",
      });
    });

    test('backpressure "close": a client that never reads is closed with 1013; others are served', async () => {
      const fixture = await start("backpressure");
      const slow = await RawPeer.open(fixture.port);
      slow.socket.pause(); // never reads again
      slow.write(frame(1, Buffer.from("/flood 400 65536")));
      const event = await fixture.waitFor((e) => e.ev === "disconnect", "backpressure close");
      expect(event).toMatchObject({ code: 1013, error: "ERR_BACKPRESSURE" });
      const flood = await fixture.waitFor((e) => e.ev === "flood");
      expect(flood.sent).toBeLessThan(400);
      await chatIntact(fixture);
    });

    // The same through a ChatRoom, which on Bun also delivers with one native publish.
    for (const [via, query, command] of [
      ["broadcast", "", "/broadcast-flood"],
      ["a ChatRoom", "?chatroom", "/room-flood"],
    ] as const) {
      test(`backpressure on ${via}: the slow reader is closed, the others receive everything`, async () => {
        const fixture = await start("backpressure");
        const slow = await RawPeer.open(fixture.port, `/ws${query}`);
        slow.socket.pause();
        const fast = await open(fixture, query);
        await fixture.waitForCount((e) => e.ev === "connect", 2, "both opens");
        const isFlood = (m: unknown) => typeof m === "string" && /^\d+ x/.test(m);
        for (let i = 0; i < 300; i++) {
          fast.send(`${command} 1 65536`);
          await fast.nextUntil(isFlood); // a reader that keeps up
        }
        expect(fast.messages.filter(isFlood).map((m) => Number((m as string).split(" ")[0]))).toEqual(
          new Array(300).fill(0),
        );
        const closed = await fixture.waitFor((e) => e.ev === "disconnect", "the slow reader's close");
        expect(closed.code).toBe(capabilities.slowBroadcastCode);
      });
    }

    test('backpressure "drop": messages past the limit are dropped and counted; onDrain fires once read', async () => {
      const fixture = await start("backpressure", { POLICY: "drop" });
      const slow = await RawPeer.open(fixture.port);
      slow.socket.pause();
      slow.write(frame(1, Buffer.from("/flood 400 65536")));
      const flood = await fixture.waitFor((e) => e.ev === "flood");
      expect(flood.dropped).toBeGreaterThan(0);
      expect((flood.sent as number) + (flood.dropped as number)).toBe(400);
      slow.socket.resume();
      const drain = await fixture.waitFor((e) => e.ev === "drain", "drain");
      expect(drain.buffered).toBe(0);
      expect(fixture.events().some((e) => e.ev === "disconnect")).toBe(false);
    });

    test("onUpgrade may be async: data and rejections still apply", async () => {
      const fixture = await start("async-upgrade");
      const client = await open(fixture);
      client.send("/data");
      expect(JSON.parse(await client.nextText())).toMatchObject({ data: "late" });
      await expect(TestClient.open(`${fixture.url}?reject`)).rejects.toMatchObject({ status: 403 });
    });

    test("close({ timeout }): a peer that never answers the close is dropped at the timeout", async () => {
      const fixture = await start("default", { CLOSE_TIMEOUT: String(CLOSE_TIMEOUT) });
      const polite = await open(fixture);
      const deaf = await RawPeer.open(fixture.port); // never answers a close frame
      const signalled = performance.now(); // counted from the signal: nothing starts before it
      const exit = fixture.stop();
      await deaf.ended;
      // Bun ends the connection along with its close frame; the others wait for the answer.
      const window: Window = capabilities.awaitsCloseAnswer ? [CLOSE_TIMEOUT, CLOSE_TIMEOUT] : [0, 0];
      expectInWindow("the deaf peer's drop", { started: signalled, connected: signalled }, window);
      expect(await polite.closed).toEqual({ code: 1001, reason: "server shutting down" });
      expect(await deaf.closeCode()).toBe(1001);
      expect(await exit).toBe(0);
      const events = fixture.events();
      expect(events.at(-1)).toEqual({ ev: "closed", open: 0 });
      expect(events.filter((e) => e.ev === "disconnect")).toHaveLength(2);
    });
  });
}
