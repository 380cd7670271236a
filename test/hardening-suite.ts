/**
 * Hardening, on every runtime: limits, heartbeats, timeouts, capacity,
 * backpressure, upgrade checks, validation, hostile input and shutdown.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Fixture, type FixtureEvent } from "./harness/fixture.ts";
import { frame, RawPeer } from "./harness/raw.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

const KiB = 1024;
const disconnectOf = (id: string) => (e: FixtureEvent) => e.ev === "disconnect" && e.id === id;

interface Capabilities {
  clientSeesCloseFrame: boolean;
  rejectsUnmasked: boolean;
  dropsStalledHandshakes: boolean;
  /** Close code a slow reader gets when the overflow happens inside a native broadcast. */
  slowBroadcastCode: number;
}

/** What each runtime's WebSocket does with protocol violations (README: runtime differences). */
const CAPABILITIES: Record<string, Capabilities> = {
  node: {
    clientSeesCloseFrame: true,
    rejectsUnmasked: true,
    dropsStalledHandshakes: true,
    slowBroadcastCode: 1013,
  },
  // Bun's native publish closes a slow subscriber itself and reports only 1006.
  bun: {
    clientSeesCloseFrame: true,
    rejectsUnmasked: true,
    dropsStalledHandshakes: true,
    slowBroadcastCode: 1006,
  },
  // Deno.serve has no header-read timeout and Deno's WebSocket reports protocol errors without a close frame.
  deno: {
    clientSeesCloseFrame: false,
    rejectsUnmasked: false,
    dropsStalledHandshakes: false,
    slowBroadcastCode: 1013,
  },
  // ws over Deno's Node layer: ws parses the frames, Deno's node:http keeps the handshake timeouts.
  "deno+node-adapter": {
    clientSeesCloseFrame: true,
    rejectsUnmasked: true,
    dropsStalledHandshakes: true,
    slowBroadcastCode: 1013,
  },
};

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

    test("heartbeat: a peer that stops answering pings is dropped with 1006", async () => {
      const silent = await open(fixture, "", { autoPong: false });
      const { id } = await silent.info();
      const event = await fixture.waitFor(disconnectOf(id), "heartbeat drop");
      expect(event).toMatchObject({ code: 1006, error: "ERR_HEARTBEAT_TIMEOUT" });
    });

    test("heartbeat: a peer that answers pings stays connected", async () => {
      const client = await open(fixture);
      let pings = 0;
      await new Promise<void>((resolve) => client.socket.on("ping", () => ++pings === 3 && resolve()));
      client.send("after three pings");
      expect(await client.nextText()).toBe("after three pings");
    });

    test("handshakeTimeout: a request that never finishes its headers, or never sends a byte, is dropped", async () => {
      const peers = await Promise.all([
        RawPeer.openIncomplete(fixture.port),
        RawPeer.openIncomplete(fixture.port, ""),
      ]);
      if (capabilities.dropsStalledHandshakes) {
        await Promise.all(peers.map((peer) => peer.ended)); // bounded by the suite's timeout
      } else {
        for (const peer of peers) expect(peer.socket.destroyed).toBe(false); // held (README: runtime differences)
      }
      await chatIntact(fixture); // either way it costs the others nothing
      for (const peer of peers) peer.socket.destroy();
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
      // One at a time, so the close never races messages in flight (see the README on Deno).
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
    const cases: [string, (peer: RawPeer) => void, number][] = [
      ["garbage bytes", (p) => p.write(Buffer.from("GET / HTTP/1.1\r\n\r\nnot a frame")), 1002],
      ["invalid UTF-8 in a text frame", (p) => p.write(frame(1, Buffer.from([0xc3, 0x28, 0xff]))), 1007],
      [
        "a declared length far over maxPayload",
        (p) => p.write(frame(2, Buffer.alloc(0), { declaredLength: 1n << 40n })),
        1009,
      ],
      ["a fragmented control frame", (p) => p.write(frame(9, Buffer.from("x"), { fin: false })), 1002],
    ];
    for (const [name, attack, code] of cases) {
      test(`${name}: closed (${code}), the server and other chats carry on`, async () => {
        const withCode = (e: FixtureEvent) => e.ev === "disconnect" && e.code === code;
        const before = fixture.events().filter(withCode).length;
        const peer = await RawPeer.open(fixture.port);
        attack(peer);
        expect(await peer.closeCode()).toBe(clientSeesCloseFrame ? code : undefined);
        await peer.ended;
        await fixture.waitForCount(withCode, before + 1, `onDisconnect with ${code}`);
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

    test("a half-sent frame, then silence: the heartbeat drops the peer", async () => {
      const before = fixture.events().filter((e) => e.error === "ERR_HEARTBEAT_TIMEOUT").length;
      const peer = await RawPeer.open(fixture.port);
      peer.write(frame(1, Buffer.alloc(1000, 97)).subarray(0, 500));
      await peer.ended;
      await fixture.waitForCount((e) => e.error === "ERR_HEARTBEAT_TIMEOUT", before + 1, "heartbeat drops");
      await chatIntact(fixture);
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

    test("idleTimeout: a client that sends nothing is closed with 1000", async () => {
      const fixture = await start("idle");
      const opened = Date.now();
      const client = await open(fixture);
      expect(await client.closed).toEqual({ code: 1000, reason: "idle timeout" });
      expect(Date.now() - opened).toBeGreaterThanOrEqual(290);
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
      const fixture = await start("default", { CLOSE_TIMEOUT: "300" });
      const polite = await open(fixture);
      const deaf = await RawPeer.open(fixture.port); // never answers a close frame
      const exit = fixture.stop();
      expect(await polite.closed).toEqual({ code: 1001, reason: "server shutting down" });
      expect(await deaf.closeCode()).toBe(1001);
      expect(await exit).toBe(0);
      const events = fixture.events();
      expect(events.at(-1)).toEqual({ ev: "closed", open: 0 });
      expect(events.filter((e) => e.ev === "disconnect")).toHaveLength(2);
    });
  });
}
