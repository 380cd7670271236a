/**
 * The shared behavioural suite: every test here runs against a real fixture
 * server in each runtime, with real `ws` clients on loopback.
 */
import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Fixture, type FixtureEvent } from "./harness/fixture.ts";
import { frame, RawPeer } from "./harness/raw.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

const isMix = (message: unknown) => typeof message === "string" && message.startsWith("mix ");

/** Waits until `client` has received `count` messages that `match`, and returns them. */
async function receiveMatching(
  client: TestClient,
  match: (message: unknown) => boolean,
  count: number,
): Promise<string[]> {
  while (client.messages.filter(match).length < count) await client.receive(client.messages.length + 1);
  return client.messages.filter(match) as string[];
}

const isDisconnect = (id: string) => (e: FixtureEvent) => e.ev === "disconnect" && e.id === id;

export function serverSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] server contract`, () => {
    let fixture: Fixture;
    const extra: Fixture[] = [];
    const clients: TestClient[] = [];
    const open = async (path = "/ws", options = {}) => {
      const client = await TestClient.open(`ws://127.0.0.1:${fixture.port}${path}`, options);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      fixture = await Fixture.start(runtime, "default", variant.env);
    });
    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      await Promise.all([fixture, ...extra].map((f) => f?.process.stop("SIGKILL")));
    });

    test("port 0 picks a free port, readable after listen", () => {
      expect(fixture.port).toBeGreaterThan(0);
      // A mounted server owns no port: `server.port` stays the option (0); clients use the host's.
      const expected = variant.mounted ? 0 : fixture.port;
      expect(fixture.events().find((e) => e.ev === "listening")?.getter).toBe(expected);
    });

    test("connection ids are unique URL-safe strings", async () => {
      const batch = await Promise.all(Array.from({ length: 30 }, () => open()));
      const ids = await Promise.all(batch.map(async (c) => (await c.info()).id));
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      await Promise.all(batch.map((c) => c.close()));
    });

    test("headers (lower-case, read-only), url, remoteAddress and state are visible", async () => {
      const client = await open("/ws?room=42", { headers: { "X-Custom-Header": "Hello" } });
      const info = await client.info();
      expect(info.headers["x-custom-header"]).toBe("Hello");
      expect(info.headers.upgrade?.toLowerCase()).toBe("websocket");
      expect(Object.keys(info.headers).every((name) => name === name.toLowerCase())).toBe(true);
      expect(info.frozen).toBe(true);
      expect(info.url).toBe("/ws?room=42");
      expect(info.remoteAddress).toBe("127.0.0.1");
      expect(info.state).toBe("open");
      await client.close();
    });

    test("onConnect runs before the first onMessage, onDisconnect once after", async () => {
      const client = await open();
      client.send("first");
      expect(await client.nextText()).toBe("first");
      const { id } = await client.info();
      await client.close(1000);
      await fixture.waitFor(isDisconnect(id), "disconnect");
      const mine = fixture
        .events()
        .filter((e) => e.id === id)
        .map((e) => e.ev);
      expect(mine[0]).toBe("connect");
      expect(mine.at(-1)).toBe("disconnect");
      expect(mine.filter((ev) => ev === "disconnect")).toHaveLength(1);
    });

    test("send echoes text, including non-ASCII and emoji, intact", async () => {
      const client = await open();
      for (const text of ["hello", "héllo wörld", "日本語のテキスト", "emoji 🎉👩‍💻", ""]) {
        client.send(text);
        expect(await client.nextText()).toBe(text);
      }
      await client.close();
    });

    test("a 1 MiB message round-trips intact", async () => {
      const client = await open();
      const unit = "aé日🎉"; // 1 + 2 + 3 + 4 UTF-8 bytes
      const text = unit.repeat(104_857) + "a".repeat(6);
      expect(new TextEncoder().encode(text).length).toBe(1024 * 1024);
      client.send(text);
      expect(await client.nextText()).toBe(text);
      await client.close();
    });

    test("broadcast reaches everyone; with except, everyone but the sender", async () => {
      const [a, b, c] = await Promise.all([open(), open(), open()]);
      a!.send("/broadcast hello all");
      for (const client of [a!, b!, c!]) expect(await client.nextText()).toBe("hello all");
      a!.send("/broadcast-except not for a");
      expect(await b!.nextText()).toBe("not for a");
      expect(await c!.nextText()).toBe("not for a");
      a!.send("after");
      expect(await a!.nextText()).toBe("after"); // a's next message is its echo, not the broadcast
      await Promise.all([a!.close(), b!.close(), c!.close()]);
    });

    test("server-initiated close: the client sees the code and reason", async () => {
      const client = await open();
      const { id } = await client.info();
      client.send("/close 4001 see you");
      expect(await client.closed).toEqual({ code: 4001, reason: "see you" });
      const event = await fixture.waitFor(isDisconnect(id), "disconnect");
      expect(event).toMatchObject({ code: 4001, reason: "see you", state: "closed" });
    });

    test("client close: onDisconnect once, with the client's code and reason", async () => {
      const client = await open();
      const { id } = await client.info();
      await client.close(4002, "bye");
      const event = await fixture.waitFor(isDisconnect(id), "disconnect");
      expect(event).toMatchObject({ code: 4002, reason: "bye" });
    });

    // A peer that answers the closing handshake but never closes its TCP side: `ws` would
    // wait for its FIN until its 30 s close timer; the test's own timeout is far below that.
    for (const starter of ["client", "server"] as const) {
      test(`${starter}-started close, the client keeps TCP open: onDisconnect and the server's FIN come at once`, async () => {
        const withCode = (e: FixtureEvent) => e.ev === "disconnect" && e.code === 4005;
        const before = fixture.events().filter(withCode).length;
        const peer = await RawPeer.open(fixture.port, "/ws", "", true);
        const close = frame(8, Buffer.concat([Buffer.from([0x0f, 0xa5]), Buffer.from("bye")]));
        peer.write(starter === "client" ? close : frame(1, Buffer.from("/close 4005 bye")));
        expect(await peer.closeCode()).toBe(4005);
        if (starter === "server") peer.write(close);
        await fixture.waitForCount(withCode, before + 1, "onDisconnect with 4005");
        await peer.serverEnded;
        peer.socket.destroy();
      }, 10_000);
    }

    test("a client that vanishes without a close frame: onDisconnect once with 1006", async () => {
      const client = await open();
      const { id } = await client.info();
      client.socket.terminate();
      const event = await fixture.waitFor(isDisconnect(id), "disconnect");
      expect(event.code).toBe(1006);
    });

    test("send on a closed connection returns false and does not throw", async () => {
      const client = await open();
      client.send("/close-then-send");
      const event = await fixture.waitFor((e) => e.ev === "send-after-close", "send-after-close");
      expect(event).toMatchObject({ result: false, state: "closing" });
      expect((await client.closed).code).toBe(1000);
    });

    test("close() with a code a server may not send throws TypeError", async () => {
      const client = await open();
      client.send("/bad-close 1005");
      const event = await fixture.waitFor((e) => e.ev === "bad-close", "bad-close");
      expect(event).toMatchObject({
        name: "TypeError",
        message: "close code must be 1000-1003, 1007-1014 or 3000-4999, got 1005",
      });
      client.send("still open");
      expect(await client.nextText()).toBe("still open");
      await client.close();
    });

    test("an upgrade to another path gets 404 and no connection", async () => {
      await expect(TestClient.open(`ws://127.0.0.1:${fixture.port}/other`)).rejects.toMatchObject({
        status: 404,
      });
    });

    test("a plain HTTP GET to the path gets 426 Upgrade Required", async () => {
      const response = await fetch(`${fixture.http}/ws`);
      expect(response.status).toBe(426);
      expect(response.headers.get("upgrade")).toBe("websocket");
      expect((await fetch(`${fixture.http}/elsewhere`)).status).toBe(404);
    });

    test("a throwing or rejecting onMessage goes to onError; the server and others carry on", async () => {
      const [a, b] = await Promise.all([open(), open()]);
      const { id } = await a!.info();
      a!.send("/throw");
      a!.send("/reject");
      const errors = await fixture.waitForCount((e) => e.ev === "error" && e.id === id, 2, "errors");
      expect(errors.map((e) => e.message)).toEqual([
        "onMessage failed: boom",
        "onMessage failed: async boom",
      ]);
      expect(errors.every((e) => e.name === "WebSocketError" && e.code === "ERR_HOOK")).toBe(true);
      a!.send("a still here");
      b!.send("b still here");
      expect(await a!.nextText()).toBe("a still here");
      expect(await b!.nextText()).toBe("b still here");
      await Promise.all([a!.close(), b!.close()]);
    });

    test("binary without onBinary closes the connection with 1003", async () => {
      const client = await open();
      client.send(new Uint8Array([1, 2, 3]));
      expect((await client.closed).code).toBe(1003);
    });

    test("200 concurrent clients chat with no lost or reordered message per sender", async () => {
      const senders = 200;
      const perSender = 5;
      const connected = fixture.events().filter((e) => e.ev === "connect").length;
      const crowd = await Promise.all(Array.from({ length: senders }, () => open()));
      // Everyone is in before the first message (Deno opens server-side a moment after the client).
      await fixture.waitForCount((e) => e.ev === "connect", connected + senders, "server-side opens");
      for (let seq = 0; seq < perSender; seq++) {
        for (const [sender, client] of crowd.entries()) client.send(`/fanout ${sender} ${seq}`);
      }
      const total = senders * perSender;
      await Promise.all(crowd.map((client) => client.receive(total, 30_000))); // 200,000 deliveries

      for (const client of crowd) {
        const next = new Array<number>(senders).fill(0);
        for (const message of client.messages) {
          const [, sender, seq] = (message as string).split(" ").map(Number);
          expect(seq).toBe(next[sender!]);
          next[sender!]!++;
        }
        expect(next.every((n) => n === perSender)).toBe(true);
      }
      await Promise.all(crowd.map((c) => c.close()));
    });

    test("send and broadcast interleave under load: per-connection order kept, nothing lost", async () => {
      const count = 100;
      const crowd = await Promise.all(Array.from({ length: 10 }, () => open()));
      const ids = await Promise.all(crowd.map(async (client) => (await client.info()).id));
      for (const client of crowd) client.send(`/mix ${count}`);
      const seq = Array.from({ length: count }, (_, i) => i);
      // Own sends, own even broadcasts (odd ones skip their sender), everyone else's broadcasts.
      const expected = 1 + count + count / 2 + (crowd.length - 1) * count;
      await Promise.all(crowd.map((client) => client.receive(expected, 20_000)));
      for (const [k, client] of crowd.entries()) {
        const messages = client.messages.slice(1) as string[];
        expect(messages).toHaveLength(expected - 1);
        const parsed = messages.map((text) => {
          const [, from, kind, i] = text.split(" ");
          expect(text.length).toBe(Number(i) % 16 === 15 ? 20_000 : `mix ${from} ${kind} ${i} `.length);
          return { from, kind, i: Number(i) };
        });
        for (const origin of ids) {
          const broadcasts = parsed.filter((m) => m.from === origin && m.kind === "b").map((m) => m.i);
          expect(broadcasts).toEqual(origin === ids[k] ? seq.filter((i) => i % 2 === 0) : seq);
        }
        const own = parsed.filter((m) => m.from === ids[k]).map((m) => `${m.kind}${m.i}`);
        expect(own).toEqual(seq.flatMap((i) => (i % 2 ? [`s${i}`] : [`s${i}`, `b${i}`])));
      }
      await Promise.all(crowd.map((c) => c.close()));
    });

    test("a ChatRoom's broadcasts and direct sends interleave under load: order kept, nothing lost", async () => {
      const count = 100;
      const inRoom = (e: FixtureEvent) => e.ev === "connect" && String(e.url).includes("chatroom");
      const joined = fixture.events().filter(inRoom).length; // room joins before this test
      const plain = await Promise.all(Array.from({ length: 6 }, () => open("/ws?chatroom")));
      const resumable = await Promise.all([open("/ws?chatroom&resume"), open("/ws?chatroom&resume")]);
      await fixture.waitForCount(inRoom, joined + 8, "room joins"); // every member is in before the first message
      for (const client of plain) client.send(`/room-mix ${count}`);
      const parse = (text: string) => {
        const [, from, kind, i] = text.split(" ");
        expect(text.length).toBe(Number(i) % 16 === 15 ? 20_000 : `mix ${from} ${kind} ${i} `.length);
        return { from: from!, kind: kind!, i: Number(i) };
      };
      const seq = Array.from({ length: count }, (_, i) => i);
      const senders = new Set<string>();
      for (const client of plain) {
        const mixes = (await receiveMatching(client, isMix, count * (plain.length + 1))).map(parse);
        const own = mixes.filter((m) => m.kind === "s");
        senders.add(own[0]!.from);
        // Its own sends and its own broadcasts alternate, as the server made them.
        const mine = mixes.filter((m) => m.from === own[0]!.from).map((m) => `${m.kind}${m.i}`);
        expect(mine).toEqual(seq.flatMap((i) => [`s${i}`, `b${i}`]));
        for (const from of new Set(mixes.map((m) => m.from))) {
          expect(mixes.filter((m) => m.from === from && m.kind === "b").map((m) => m.i)).toEqual(seq);
        }
      }
      expect(senders.size).toBe(plain.length);
      for (const client of resumable) {
        const isMixFrame = (m: unknown) =>
          typeof m === "string" && /^\{"type":"message".*"data":"mix /.test(m);
        await receiveMatching(client, isMixFrame, count * plain.length);
        const frames = (client.messages as string[]).map(
          (m) => JSON.parse(m) as { type: string; seq: number; data: string },
        );
        const numbers = frames.filter((f) => f.type === "message").map((f) => f.seq);
        expect(numbers).toEqual(numbers.map((_, k) => numbers[0]! + k)); // consecutive: none lost, none twice
        const mixes = frames.filter((f) => f.type === "message" && isMix(f.data)).map((f) => parse(f.data));
        for (const from of senders) expect(mixes.filter((m) => m.from === from).map((m) => m.i)).toEqual(seq);
      }
      await Promise.all([...plain, ...resumable].map((c) => c.close()));
    });

    test("bufferedAmount counts broadcast bytes a paused reader has not taken; all arrive in order", async () => {
      const client = await open();
      const { id } = await client.info();
      const tcp = (client.socket as unknown as { _socket: Socket })._socket;
      tcp.pause(); // the server's writes back up once the kernel buffers are full
      const size = 1024 * 1024;
      client.send(`/flood-buffered 12 ${size}`);
      const event = await fixture.waitFor((e) => e.ev === "buffered" && e.id === id, "buffered");
      expect(event.amount).toBeGreaterThan(0);
      tcp.resume();
      for (let i = 0; i < 12; i++) {
        const text = await client.nextText();
        expect(text.startsWith(`flood ${i} `)).toBe(true);
        expect(text).toHaveLength(size);
      }
      client.send("/buffered");
      expect(await client.nextText()).toBe("0");
      await client.close();
    });

    test("close() sends 1001 to every client; every connection got onDisconnect exactly once", async () => {
      // A server of its own, whose connections ended every way before the shutdown.
      const server = await Fixture.start(runtime, "default", variant.env);
      extra.push(server);
      const url = (i: number) => `${server.url}${i % 2 ? "?chatroom" : ""}`; // half of them in a ChatRoom
      const ended = await Promise.all(Array.from({ length: 60 }, (_, i) => TestClient.open(url(i))));
      await server.waitForCount((e) => e.ev === "connect", ended.length, "opens");
      await Promise.all(
        ended.map(async (client, i) => {
          if (i % 3 === 0) return void (await client.close(1000));
          if (i % 3 === 1) client.send("/close 4001 server side");
          else client.socket.terminate();
          await client.closedWithin(10_000);
        }),
      );
      const remaining = await Promise.all([1, 2, 3].map((i) => TestClient.open(url(i))));
      await server.waitForCount((e) => e.ev === "connect", ended.length + 3, "opens");
      const closes = remaining.map((c) => c.closedWithin(10_000));
      expect(await server.stop()).toBe(0);
      for (const closed of await Promise.all(closes)) {
        expect(closed).toEqual({ code: 1001, reason: "server shutting down" });
      }
      const events = server.events();
      expect(events.at(-1)).toEqual({ ev: "closed", open: 0 });
      const connects = events.filter((e) => e.ev === "connect").map((e) => e.id);
      for (const id of connects) {
        const mine = events.filter((e) => e.id === id);
        expect(
          mine.filter((e) => e.ev === "disconnect"),
          `disconnects of ${JSON.stringify(mine)}`,
        ).toHaveLength(1);
      }
      expect(connects).toHaveLength(ended.length + remaining.length);
    });
  });

  describe(`[${variant.name}] server setups`, () => {
    const fixtures: Fixture[] = [];
    const start = async (scenario: string, env?: Record<string, string>) => {
      const fixture = await Fixture.start(runtime, scenario, { ...variant.env, ...env });
      fixtures.push(fixture);
      return fixture;
    };
    afterAll(async () => {
      await Promise.all(fixtures.map((f) => f.process.stop("SIGKILL")));
    });

    test("binary with onBinary arrives as a plain Uint8Array and echoes intact", async () => {
      const fixture = await start("binary");
      const client = await TestClient.open(fixture.url);
      const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => i % 256);
      client.send(bytes);
      expect(await client.next()).toEqual(bytes);
      expect(await fixture.waitFor((e) => e.ev === "binary")).toMatchObject({ length: 70_000, plain: true });
      await client.close();
    });

    test("keepHeaders picks what conn.headers keeps; onUpgrade sees every header", async () => {
      const cases = [
        ["none", {}],
        ["X-Token,x-absent", { "x-token": "t1" }],
      ] as const;
      for (const [keep, kept] of cases) {
        const fixture = await start("keep-headers", { KEEP_HEADERS: keep });
        const client = await TestClient.open(fixture.url, { headers: { "X-Token": "t1" } });
        const info = await client.info();
        expect(info.headers).toEqual(kept);
        expect(info.frozen).toBe(true);
        const upgrade = await fixture.waitFor((e) => e.ev === "upgrade");
        expect(upgrade).toMatchObject({ token: "t1" });
        expect(upgrade.names).toBeGreaterThan(4);
        await client.close();
      }
    });

    test("sending a view of a message sends exactly the view's bytes", async () => {
      const fixture = await start("binary");
      const client = await TestClient.open(fixture.url);
      client.send(Uint8Array.of(0xfe, 1, 2, 3, 4));
      expect(await client.next()).toEqual(Uint8Array.of(1, 2));
      expect(await client.next()).toEqual(Uint8Array.of(0xfe, 1));
      expect(await client.next()).toEqual(Uint8Array.of(0xfe, 1, 2, 3, 4));
      await client.close();
    });

    test("an async onConnect settles before the first onMessage", async () => {
      const fixture = await start("slow-connect");
      const client = await TestClient.open(fixture.url);
      client.send("early");
      expect(await client.nextText()).toBe("early");
      // Its stdout line may come after the echo: wait for it before reading the order.
      await fixture.waitFor((e) => e.ev === "message", "the message event");
      const order = fixture
        .events()
        .filter((e) => e.ev !== "listening")
        .map((e) => e.ev);
      expect(order).toEqual(["connect", "connect-done", "message"]);
      await client.close();
    });

    test("throwing onConnect and onDisconnect go to onError; the connection and server survive", async () => {
      const fixture = await start("throwing");
      const client = await TestClient.open(`${fixture.url}?throw=connect`);
      client.send("still works");
      expect(await client.nextText()).toBe("still works");
      const other = await TestClient.open(`${fixture.url}?throw=disconnect`);
      const { id } = await other.info();
      await other.close();
      const error = await fixture.waitFor((e) => e.ev === "error" && e.id === id, "error");
      expect(error.message).toBe("onDisconnect failed: disconnect boom");
      expect(fixture.events().find((e) => e.ev === "error")?.message).toBe("onConnect failed: connect boom");
      client.send("after");
      expect(await client.nextText()).toBe("after");
      await client.close();
    });

    test("two servers in one process work independently", async () => {
      const fixture = await start("two");
      expect(fixture.ports).toHaveLength(2);
      expect(fixture.ports[0]).not.toBe(fixture.ports[1]);
      const clients = await Promise.all(fixture.ports.map((p) => TestClient.open(`ws://127.0.0.1:${p}/ws`)));
      clients[0]!.send("/count");
      clients[1]!.send("/count");
      expect(await clients[0]!.nextText()).toBe("1");
      expect(await clients[1]!.nextText()).toBe("1");
      await Promise.all(clients.map((c) => c.close()));
    });

    test("listen() on a taken port rejects with WebSocketError EADDRINUSE", async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const { port } = blocker.address() as { port: number };
      try {
        const fixture = await start("taken", { PORT: String(port) });
        const event = await fixture.waitFor((e) => e.ev === "listen-failed", "listen-failed");
        expect(event).toEqual({
          ev: "listen-failed",
          name: "WebSocketError",
          code: "EADDRINUSE",
          message: `address already in use: 127.0.0.1:${port}`,
          isError: true,
        });
      } finally {
        blocker.close();
      }
    });

    test("bad options throw TypeError with a precise message", async () => {
      const fixture = await start("options");
      expect(await fixture.process.finished()).toBe(0);
      const rejected = fixture.events().filter((e) => e.ev === "rejected");
      expect(fixture.events().filter((e) => e.ev === "accepted")).toEqual([]);
      expect(rejected.every((e) => e.name === "TypeError")).toBe(true);
      expect(rejected.map((e) => e.message)).toEqual([
        "options.port must be an integer from 0 to 65535, got number 70000",
        "options.port must be an integer from 0 to 65535, got number -1",
        "options.port must be an integer from 0 to 65535, got number 1.5",
        'options.port must be an integer from 0 to 65535, got "8080"',
        'options.path must be a string starting with "/", got "chat"',
        'options.hostname must be a non-empty string, got ""',
        'options.onMessage must be a function, got "not a function"',
        "options.onConnect must be a function, got number 42",
        'options.keepHeaders must be a boolean or a list of header names, got "cookie"',
        "options.keepHeaders must be a boolean or a list of header names, got an array",
        expect.stringMatching(
          /^options\.prot is not an option \(did you mean port\?\); known: port, hostname, /,
        ),
        expect.stringMatching(/^options\.hostName is not an option \(did you mean hostname\?\); known: /),
        expect.stringMatching(/^options\.perMessageDeflate is not an option; known: port, hostname, path, /),
        expect.stringMatching(/^options\.tsl is not an option \(did you mean tls\?\); known: /),
        "options.heartbeat.intervall is not an option (did you mean interval?); known: interval, timeout",
      ]);
    });
  });
}
