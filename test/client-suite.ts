/**
 * The client suite: real `polysocket/client` instances running in one runtime
 * (test/fixtures/client.ts) against real polysocket servers on loopback.
 */
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Server } from "../src/adapters/node/index.ts";
import { backoffCap } from "../src/client/backoff.ts";
import { type Connection, Rooms, type ServerOptions } from "../src/index.ts";
import { type Certs, makeCerts, readPem } from "./harness/certs.ts";
import { ChatServer } from "./harness/chat-server.ts";
import { ClientFixture } from "./harness/client-fixture.ts";
import { Fixture } from "./harness/fixture.ts";
import type { Runtime } from "./harness/runtimes.ts";

/** Fast retries; the resumable protocol asked for outright (the tests of "auto", the default, say so). */
const FAST = { minDelay: 10, maxDelay: 100, heartbeatInterval: 0, resume: true };

export function clientSuite(runtime: Runtime): void {
  describe(`[${runtime}] client`, () => {
    let clients: ClientFixture;
    let platform: string;
    const cleanups: (() => Promise<void>)[] = [];
    const chat = async (options = {}) => {
      const server = await new ChatServer(options).start(0);
      cleanups.push(() => server.stop());
      return server;
    };
    const opened = async (name: string, count = 1) =>
      (await clients.waitForEvents(name, "open", count)).at(-1)!;

    beforeAll(async () => {
      ({ fixture: clients, platform } = await ClientFixture.start(runtime));
    });
    afterAll(async () => {
      await clients?.process.stop("SIGKILL");
      await Promise.all(cleanups.map((cleanup) => cleanup()));
    });

    test("uses the platform's WebSocket (the ws package on Node without a global one)", () => {
      const hasGlobal =
        runtime !== "node" || typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";
      expect(platform).toBe(hasGlobal ? "global" : "ws");
    });

    test("chats in the resumable protocol: open with the server's id, sequence numbers, presence", async () => {
      const server = await chat();
      clients.connect("a", server.url("a"), FAST);
      const { id } = await opened("a");
      expect(await clients.send("a", "hello")).toBe("sent");
      const messages = await clients.waitForEvents("a", "message", 2);
      expect(messages.map((m) => [m.seq, m.data])).toEqual([
        [1, `User ${id} joined the chat`],
        [2, `User ${id}: hello`],
      ]);
      expect((await clients.waitForEvents("a", "presence"))[0]!.online).toEqual([id]);
      clients.close("a");
    });

    test("a message the server refuses comes back as a notice event, not an error", async () => {
      const server = await chat();
      server.validate = (message) => (message === "bad" ? "no bad words" : true);
      clients.connect("n", server.url("n"), FAST);
      await opened("n");
      expect(await clients.send("n", "bad")).toBe("sent");
      expect(await clients.send("n", "good")).toBe("sent");
      const [notice] = await clients.waitForEvents("n", "notice");
      expect(notice!.text).toBe("Invalid message: no bad words");
      const messages = await clients.waitForEvents("n", "message", 2);
      expect(messages.map((m) => m.data)).toEqual([
        expect.stringMatching(/joined the chat$/),
        expect.stringMatching(/: good$/),
      ]);
      expect(clients.of("n", "error")).toEqual([]);
      clients.close("n");
    });

    test("with its defaults it opens on a plain echo server and speaks plain text", async () => {
      const echo = await Fixture.start(runtime);
      cleanups.push(async () => void (await echo.process.stop("SIGKILL")));
      clients.connect("plain-default", echo.url);
      const open = await opened("plain-default");
      expect(open).toMatchObject({ reconnect: false });
      expect(open.id).toBeUndefined();
      expect(await clients.send("plain-default", "hello echo")).toBe("sent");
      await clients.waitForEvents("plain-default", "message", 1);
      expect(clients.messages("plain-default")).toEqual(["hello echo"]);
      expect(clients.of("plain-default", "message").map((m) => m.seq)).toEqual([undefined]);
      expect(clients.of("plain-default", "close")).toEqual([]);
      clients.close("plain-default");
    });

    test("with its defaults it speaks the resumable protocol once a room welcomes it; pings stay out of the chat", async () => {
      const server = await chat();
      clients.connect("auto", server.url("auto"), { minDelay: 10, maxDelay: 100, heartbeatInterval: 50 });
      await opened("auto");
      const [welcome] = await clients.waitForEvents("auto", "welcome");
      const id = welcome!.id;
      expect(await clients.send("auto", "numbered")).toBe("sent");
      const messages = await clients.waitForEvents("auto", "message", 2);
      expect(messages.map((m) => [m.seq, m.data])).toEqual([
        [1, `User ${id} joined the chat`],
        [2, `User ${id}: numbered`],
      ]);
      // Heartbeat pings (every 50 ms) are answered by the room, never broadcast as chat.
      await server.untilPings(3);
      expect(server.room.messageHistory).toEqual([`User ${id} joined the chat`, `User ${id}: numbered`]);
      clients.close("auto");
    });

    test("a refusal with a 4xxx close code (onUpgrade closeCode) stops the client for good", async () => {
      const refusing = await Fixture.start(runtime, "topics");
      cleanups.push(async () => void (await refusing.process.stop("SIGKILL")));
      clients.connect("refused", `${refusing.url}?refuse-close`, { minDelay: 10, maxDelay: 20 });
      const [closed] = await clients.waitForEvents("refused", "close");
      expect(closed).toMatchObject({ code: 4401, reason: "missing token", willRetry: false });
      expect(clients.of("refused", "reconnecting")).toEqual([]);
      expect(clients.of("refused", "open")).toHaveLength(1);
    });

    test("with resume: false it is a plain reconnecting WebSocket (the seed's text protocol)", async () => {
      const server = await chat();
      clients.connect("plain", server.url("plain"), { ...FAST, resume: false });
      expect((await opened("plain")).id).toBeUndefined();
      const [joined] = await clients.waitForEvents("plain", "message");
      expect(joined!.data).toMatch(/^User \S+ joined the chat$/);
      expect(joined!.seq).toBeUndefined();
      clients.close("plain");
    });

    test("queues while disconnected up to maxQueued (both overflow policies), flushes in order", async () => {
      const server = await chat();
      clients.connect("qn", server.url("qn"), { ...FAST, maxQueued: 3, overflow: "drop-newest" });
      clients.connect("qo", server.url("qo"), { ...FAST, maxQueued: 2, overflow: "drop-oldest" });
      await Promise.all([opened("qn"), opened("qo")]);
      await server.stop();
      await Promise.all([
        clients.waitForEvents("qn", "reconnecting"),
        clients.waitForEvents("qo", "reconnecting"),
      ]);
      const newest = [];
      for (const m of ["n1", "n2", "n3", "n4", "n5"]) newest.push(await clients.send("qn", m));
      expect(newest).toEqual(["queued", "queued", "queued", "dropped", "dropped"]);
      const oldest = [];
      for (const m of ["o1", "o2", "o3"]) oldest.push(await clients.send("qo", m));
      expect(oldest).toEqual(["queued", "queued", "queued"]);

      await server.start();
      const [qn, qo] = await Promise.all([opened("qn", 2), opened("qo", 2)]);
      expect(qn.reconnect).toBe(true);
      await clients.send("qn", "n-after");
      await clients.send("qo", "o-after");
      const said = (name: string, id: unknown) => () =>
        clients
          .messages(name)
          .filter((m) => m.startsWith(`User ${id}: `))
          .map((m) => m.split(": ")[1]);
      await clients.waitFor(() => said("qn", qn.id)().includes("n-after"), "qn's last message");
      await clients.waitFor(() => said("qo", qo.id)().includes("o-after"), "qo's last message");
      expect(said("qn", qn.id)()).toEqual(["n1", "n2", "n3", "n-after"]);
      expect(said("qo", qo.id)()).toEqual(["o2", "o3", "o-after"]);
      clients.close("qn");
      clients.close("qo");
    });

    test("resumes after a dropped connection: every message exactly once, in order", async () => {
      const server = await chat();
      clients.connect("r", server.url("r"), FAST);
      clients.connect("s", server.url("s"), FAST);
      await opened("r");
      const { id: sId } = await opened("s");
      server.held.add("r"); // keeps r out until the test lets it back
      server.connection("r").terminate();
      await clients.waitForEvents("r", "close");
      for (let i = 1; i <= 5; i++) expect(await clients.send("s", `while away ${i}`)).toBe("sent");
      await clients.waitFor((e) => e.name === "s" && e.data === `User ${sId}: while away 5`, "s's echo");
      expect(clients.of("r", "open")).toHaveLength(1); // r was still away for all of it
      server.held.delete("r");
      await opened("r", 2);
      await clients.send("s", "after return");
      await clients.waitFor(
        (e) => e.name === "r" && e.data === `User ${sId}: after return`,
        "r's live message",
      );
      expect(clients.messages("r")).toEqual(server.room.messageHistory);
      const seqs = clients.of("r", "message").map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      clients.close("r");
      clients.close("s");
    });

    test("a gap older than the history is reported, then the rest arrives", async () => {
      const server = await chat({ historyLimit: 3 });
      clients.connect("g", server.url("g"), FAST);
      const { id } = await opened("g");
      server.held.add("g");
      server.connection("g").terminate();
      await clients.waitForEvents("g", "close");
      for (let i = 1; i <= 6; i++) server.room.broadcast(`b${i}`); // seq 3..8 after g's leave (seq 2)
      server.held.delete("g");
      const { id: again } = await opened("g", 2);
      await clients.waitForEvents("g", "message", 5);
      expect(clients.of("g", "gap").map(({ reason, from, to }) => ({ reason, from, to }))).toEqual([
        { reason: "history", from: 2, to: 5 },
      ]);
      expect(clients.messages("g")).toEqual([
        `User ${id} joined the chat`,
        "b4",
        "b5",
        "b6",
        `User ${again} joined the chat`,
      ]);
      clients.close("g");
    });

    test("a restarted room (new epoch) is reported as a gap, then its history is delivered", async () => {
      const first = await chat();
      clients.connect("e", first.url("e"), FAST);
      await opened("e");
      const port = first.port;
      await first.stop();
      const second = new ChatServer();
      second.room.broadcast("from the new room");
      await second.start(port);
      cleanups.push(() => second.stop());
      const { id } = await opened("e", 2);
      await clients.waitForEvents("e", "message", 3);
      expect(clients.of("e", "gap")).toMatchObject([{ reason: "restart", after: 1 }]);
      expect(clients.messages("e").slice(1)).toEqual(["from the new room", `User ${id} joined the chat`]);
      clients.close("e");
    });

    test("drops messages it has delivered already", async () => {
      const frames = (seq: number) => JSON.stringify({ type: "message", seq, data: `m${seq}` });
      const server = new Server({
        hostname: "127.0.0.1",
        onConnect(conn) {
          conn.send(JSON.stringify({ type: "welcome", id: "x", epoch: "e", seq: 3 }));
          for (const seq of [1, 2, 2, 1, 3, 3]) conn.send(frames(seq));
        },
      });
      cleanups.push(() => server.close());
      const { port } = await server.listen();
      clients.connect("d", `ws://127.0.0.1:${port}/`, FAST);
      await clients.waitForEvents("d", "message", 3);
      clients.close("d");
      await clients.waitForEvents("d", "close");
      expect(clients.messages("d")).toEqual(["m1", "m2", "m3"]);
    });

    test("close codes decide: 1003, 1008, 1009, 4000-4999 stop; 1001, 1006, 1011, 1012 retry; 1013 later", async () => {
      const server = await chat();
      const options = { minDelay: 10, maxDelay: 400, heartbeatInterval: 0 };
      const codes = [1003, 1008, 1009, 4000, 4999, 1001, 1006, 1011, 1012, 1013];
      for (const code of codes) clients.connect(`c${code}`, server.url(`c${code}`), options);
      await Promise.all(codes.map((code) => opened(`c${code}`)));
      for (const code of codes) {
        const conn = server.connection(`c${code}`);
        if (code === 1006) conn.terminate();
        else conn.close(code, `code ${code}`);
      }
      for (const code of codes) {
        const [closed] = await clients.waitForEvents(`c${code}`, "close");
        const retry = code < 4000 && ![1003, 1008, 1009].includes(code);
        expect(closed, `close ${code}`).toMatchObject({ code, willRetry: retry });
        if (!retry) {
          expect(closed!.state).toBe("closed");
          continue;
        }
        const [next] = await clients.waitForEvents(`c${code}`, "reconnecting");
        const delay = next!.delay as number;
        if (code === 1013) expect(delay, "1013 waits at least maxDelay / 2").toBeGreaterThanOrEqual(200);
        else expect(delay, `delay after ${code}`).toBeLessThanOrEqual(10);
        expect((await opened(`c${code}`, 2)).reconnect).toBe(true);
      }
      for (const code of codes) clients.close(`c${code}`);
      expect(await clients.send("c4000", "too late")).toBe("dropped");
    });

    test("backoff: jittered delays under exponential caps, then it gives up after maxRetries", async () => {
      const port = await freePort();
      const options = { minDelay: 20, maxDelay: 160, factor: 2, maxRetries: 5 };
      clients.connect("b1", `ws://127.0.0.1:${port}/`, options);
      clients.connect("b2", `ws://127.0.0.1:${port}/`, options);
      const sequences = [];
      for (const name of ["b1", "b2"]) {
        const closes = await clients.waitForCount(
          (e) => e.name === name && e.ev === "close" && !e.willRetry,
          1,
        );
        expect(closes[0]!.state).toBe("closed");
        const retries = clients.of(name, "reconnecting");
        expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
        for (const { attempt, delay } of retries) {
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(backoffCap(attempt as number, options));
        }
        expect(clients.of(name, "close")).toHaveLength(6);
        expect(clients.of(name, "error").length).toBeGreaterThan(0);
        sequences.push(retries.map((r) => r.delay));
      }
      // Full jitter: two clients failing together do not retry in lockstep.
      expect(sequences[0]).not.toEqual(sequences[1]);
      expect(await clients.send("b1", "nobody home")).toBe("dropped");
    });

    test("connectTimeout abandons a server that never answers the handshake", async () => {
      const sockets: Socket[] = [];
      const handshakes: Socket[] = [];
      const silent = createServer((socket) => {
        sockets.push(socket);
        socket.once("data", () => handshakes.push(socket));
      });
      const port = await listen(silent);
      clients.connect("t", `ws://127.0.0.1:${port}/`, { connectTimeout: 150, minDelay: 10, maxRetries: 1 });
      const closes = await clients.waitForEvents("t", "close", 2);
      expect(closes.map(({ code, reason, willRetry }) => ({ code, reason, willRetry }))).toEqual([
        { code: 1006, reason: "connect timeout", willRetry: true },
        { code: 1006, reason: "connect timeout", willRetry: false },
      ]);
      // Two handshakes, counted by request: Node 22 and 24's WebSocket (undici) opens one
      // more TCP connection after an abandoned handshake, and sends nothing on it.
      expect(handshakes.length).toBe(2);
      for (const socket of sockets) socket.destroy();
      silent.close();
    });

    test("heartbeat: a server that stops answering is noticed and the client reconnects", async () => {
      const server = await chat();
      clients.connect("h", server.url("h"), { minDelay: 10, heartbeatInterval: 50, heartbeatTimeout: 200 });
      await opened("h");
      server.muted.add(server.connection("h"));
      const [closed] = await clients.waitForEvents("h", "close");
      expect(closed).toMatchObject({ code: 1006, reason: "heartbeat timeout", willRetry: true });
      expect((await opened("h", 2)).reconnect).toBe(true);
      clients.close("h");
    });

    /** An in-process Node server that records each upgrade's headers and each connection. */
    const recording = async (options: ServerOptions = {}) => {
      const upgrades: Record<string, string>[] = [];
      const conns: Connection[] = [];
      const server = new Server({
        hostname: "127.0.0.1",
        onUpgrade: (request) => void upgrades.push({ ...request.headers }),
        onConnect: (conn) => void conns.push(conn),
        ...options,
      });
      cleanups.push(() => server.close());
      const { port } = await server.listen();
      return { upgrades, conns, port, url: `ws://127.0.0.1:${port}/` };
    };

    test("headers: extra upgrade headers reach the server (onUpgrade and conn.headers)", async () => {
      const server = await recording();
      const headers = { Authorization: "Bearer t0ken", "X-Polysocket-Test": "one, two" };
      clients.connect("hd", server.url, { headers, resume: false });
      await opened("hd");
      expect(server.upgrades).toHaveLength(1);
      expect(server.upgrades[0]).toMatchObject({
        authorization: "Bearer t0ken",
        "x-polysocket-test": "one, two",
      });
      expect(server.conns[0]!.headers).toMatchObject({ authorization: "Bearer t0ken" });
      clients.close("hd");
    });

    test("headers: the ones the handshake owns are a TypeError at connect, on every runtime", async () => {
      clients.connect("hd-bad", "ws://127.0.0.1:9/", { headers: { "Sec-WebSocket-Key": "x" } });
      const [error] = await clients.waitForEvents("hd-bad", "connect-error");
      expect(error).toMatchObject({
        type: "TypeError",
        message: 'options.headers["Sec-WebSocket-Key"] is set by the WebSocket handshake itself',
      });
    });

    test("protocols: the one the server chose is client.protocol and conn.protocol; none offered by default", async () => {
      const server = await recording({
        onUpgrade: (request) => {
          server.upgrades.push({ ...request.headers });
          const offered = offeredProtocols(request.headers);
          return offered.includes("chat.v2") ? { protocol: "chat.v2" } : {};
        },
      });
      clients.connect("pr", server.url, { protocols: ["chat.v3", "chat.v2"], resume: false });
      expect(await opened("pr")).toMatchObject({ protocol: "chat.v2" });
      expect(offeredProtocols(server.upgrades[0]!)).toEqual(["chat.v3", "chat.v2"]);
      expect(server.conns[0]!.protocol).toBe("chat.v2");
      clients.connect("pr-none", server.url, { resume: false });
      expect(await opened("pr-none")).toMatchObject({ protocol: "" });
      expect(server.upgrades[1]!["sec-websocket-protocol"]).toBeUndefined();
      expect(server.conns[1]!.protocol).toBe("");
      clients.close("pr");
      clients.close("pr-none");
    });

    test("protocols: a server that chooses none of them fails the connection (1006, retried), on every runtime", async () => {
      const server = await recording();
      clients.connect("pr-refused", server.url, { protocols: "chat.v2", minDelay: 10, maxRetries: 1 });
      const closes = await clients.waitForEvents("pr-refused", "close", 2);
      expect(closes.map(({ code, willRetry }) => ({ code, willRetry }))).toEqual([
        { code: 1006, willRetry: true },
        { code: 1006, willRetry: false },
      ]);
      expect(clients.of("pr-refused", "open")).toEqual([]);
      expect(clients.of("pr-refused", "error").length).toBeGreaterThan(0);
      expect(server.upgrades.map((h) => h["sec-websocket-protocol"])).toEqual(["chat.v2", "chat.v2"]);
    });

    describe("tls trust", () => {
      let certs: Certs;
      let url: string;
      beforeAll(async () => {
        certs = makeCerts();
        const tls = { cert: readPem(certs.leaf), key: readPem(certs.leafKey) };
        const server = new Server({ hostname: "127.0.0.1", tls, onConnect: (conn) => conn.send("over tls") });
        cleanups.push(async () => {
          await server.close();
          certs.remove();
        });
        url = `wss://127.0.0.1:${(await server.listen()).port}/`;
      });
      const plain = { resume: false, minDelay: 10, maxRetries: 0 };

      test("with tls.ca (text or bytes) it connects over wss:// to a server of a private CA; without, it fails", async () => {
        const ca = readPem(certs.ca);
        clients.connect("ca-text", url, { ...plain, tls: { ca } });
        clients.command({
          cmd: "connect",
          name: "ca-bytes",
          url,
          options: { ...plain, tls: { ca } },
          caBytes: true,
        });
        clients.connect("ca-none", url, plain);
        for (const name of ["ca-text", "ca-bytes"]) {
          await opened(name);
          expect((await clients.waitForEvents(name, "message"))[0]!.data).toBe("over tls");
          clients.close(name);
        }
        const [refused] = await clients.waitForEvents("ca-none", "close");
        expect(refused).toMatchObject({ code: 1006, willRetry: false });
        expect(clients.of("ca-none", "open")).toEqual([]);
        expect(clients.of("ca-none", "error").length).toBeGreaterThan(0);
      });

      test("tls.rejectUnauthorized: false accepts any certificate, except on Deno: a TypeError there", async () => {
        clients.connect("unchecked", url, { ...plain, tls: { rejectUnauthorized: false } });
        if (runtime === "deno") {
          const [error] = await clients.waitForEvents("unchecked", "connect-error");
          expect(error).toMatchObject({
            type: "TypeError",
            message:
              "options.tls.rejectUnauthorized: false cannot be used on Deno: it has no per-connection switch (run deno with --unsafely-ignore-certificate-errors=HOST)",
          });
          return;
        }
        await opened("unchecked");
        expect((await clients.waitForEvents("unchecked", "message"))[0]!.data).toBe("over tls");
        clients.close("unchecked");
      });
    });

    /** A `Rooms` server in this process; presence shows `?nick=`. Its connections by client name. */
    const roomsServer = async () => {
      const rooms = new Rooms({
        presence: (conn) => new URL(conn.url, "http://h").searchParams.get("nick") ?? conn.id,
        joinNotice: (member, room) => `${String(member.info)} joined ${room}`,
        // Stores it, but the connection drops before the ack can go out (once).
        onPublish(conn, _room, data) {
          if (data === "lose my ack" && !dropped.has(data)) {
            dropped.add(data);
            conn.terminate();
          }
          if (data === "refuse me") throw new Error("not this one");
          return data;
        },
        respond(conn, data) {
          if (data === "fail") throw new Error("no such thing");
          return { echo: data, nick: new URL(conn.url, "http://h").searchParams.get("nick") };
        },
      });
      const dropped = new Set<unknown>();
      const byNick = new Map<string, Connection>();
      const server = new Server({
        hostname: "127.0.0.1",
        path: "/rooms",
        onConnect(conn) {
          byNick.set(new URL(conn.url, "http://h").searchParams.get("nick") ?? "", conn);
          rooms.accept(conn);
        },
        onMessage: (conn, raw) => void rooms.receive(conn, raw),
        onDisconnect: (conn) => rooms.drop(conn),
      });
      cleanups.push(async () => {
        await server.close();
        await rooms.close();
      });
      const { port } = await server.listen();
      return { rooms, byNick, url: (nick: string) => `ws://127.0.0.1:${port}/rooms?nick=${nick}` };
    };
    const inRoom = (name: string, room: string, ev: string) =>
      clients.of(name, `room-${ev}`).filter((e) => e.room === room);
    const roomData = (name: string, room: string) => inRoom(name, room, "message").map((e) => e.data);
    const roomEvents = (name: string, room: string, ev: string, count: number) =>
      clients.waitForCount(
        (e) => e.name === name && e.ev === `room-${ev}` && e.room === room,
        count,
        `${count} ${ev} of ${name} in ${room}`,
      );

    test("rooms: joins before the welcome; text, JSON and bytes stay in their room; presence per room", async () => {
      const server = await roomsServer();
      clients.connect("ra", server.url("ra"), { ...FAST, resume: "auto" });
      for (const room of ["one", "two"]) clients.command({ cmd: "join", name: "ra", room });
      await roomEvents("ra", "one", "joined", 1);
      await roomEvents("ra", "two", "joined", 1);
      clients.connect("rb", server.url("rb"), FAST);
      clients.command({ cmd: "join", name: "rb", room: "two" });
      await roomEvents("rb", "two", "joined", 1);
      clients.command({ cmd: "publish", name: "ra", room: "one", data: "text in one" });
      clients.command({ cmd: "publish", name: "rb", room: "two", data: { json: [1, true, null] } });
      clients.command({ cmd: "publish", name: "rb", room: "two", data: [0, 1, 254, 255], bytes: true });
      await roomEvents("ra", "two", "message", 4);
      await roomEvents("ra", "one", "message", 2);
      await roomEvents("rb", "two", "message", 4);
      expect(roomData("ra", "one")).toEqual(["ra joined one", "text in one"]);
      expect(roomData("ra", "two")).toEqual([
        "ra joined two",
        "rb joined two",
        { json: [1, true, null] },
        { bytes: [0, 1, 254, 255] },
      ]);
      expect(roomData("rb", "two")).toEqual(roomData("ra", "two"));
      await clients.waitFor(
        (e) =>
          e.name === "ra" &&
          e.ev === "room-presence" &&
          e.room === "two" &&
          (e.online as unknown[]).length === 2,
        "two members in room two",
      );
      expect(inRoom("ra", "one", "presence").at(-1)!.online).toEqual(["ra"]);
      clients.close("ra");
      clients.close("rb");
    });

    test("rooms: after a dropped connection every room rejoins from its own point; each message once", async () => {
      const server = await roomsServer();
      clients.connect("rr", server.url("rr"), FAST);
      for (const room of ["p", "q"]) clients.command({ cmd: "join", name: "rr", room });
      await roomEvents("rr", "p", "joined", 1);
      await roomEvents("rr", "q", "joined", 1);
      for (const text of ["p1", "p2"]) await server.rooms.publish("p", text);
      await server.rooms.publish("q", "q1");
      await roomEvents("rr", "p", "message", 3);
      await roomEvents("rr", "q", "message", 2);
      server.byNick.get("rr")!.terminate();
      await clients.waitForEvents("rr", "close");
      // Published before the client is back (the server may see the rejoin first: then they arrive live).
      await server.rooms.publish("p", "p3");
      await server.rooms.publish("q", "q2");
      await roomEvents("rr", "p", "joined", 2);
      await roomEvents("rr", "q", "joined", 2);
      await server.rooms.publish("p", "p4");
      await roomEvents("rr", "p", "message", 6);
      await roomEvents("rr", "q", "message", 4);
      // p3 and q2 come before or after the rejoin's notice, as the race went; each exactly once.
      const sorted = (list: unknown[]) => [...list].map(String).sort();
      expect(sorted(roomData("rr", "p"))).toEqual(
        sorted(["rr joined p", "p1", "p2", "p3", "rr joined p", "p4"]),
      );
      expect(sorted(roomData("rr", "q"))).toEqual(sorted(["rr joined q", "q1", "q2", "rr joined q"]));
      expect(roomData("rr", "p").at(-1)).toBe("p4");
      for (const room of ["p", "q"]) {
        const seqs = inRoom("rr", room, "message").map((e) => e.seq as number);
        expect(seqs, `room ${room}: consecutive, each once`).toEqual(seqs.map((_, i) => i + 1));
        expect(inRoom("rr", room, "joined").map((e) => e.rejoin)).toEqual([false, true]);
      }
      clients.close("rr");
    });

    test("rooms: a publish whose ack was lost is sent again after the rejoin and stored once; a refusal is a nack", async () => {
      const server = await roomsServer();
      clients.connect("pw", server.url("pw"), FAST);
      clients.connect("po", server.url("po"), FAST);
      for (const name of ["pw", "po"]) clients.command({ cmd: "join", name, room: "once" });
      await roomEvents("pw", "once", "joined", 1);
      await roomEvents("po", "once", "joined", 1);
      clients.command({ cmd: "publish", name: "pw", room: "once", data: "lose my ack", ref: "lost" });
      await clients.waitForEvents("pw", "close");
      await roomEvents("pw", "once", "joined", 2);
      const [ack] = await roomEvents("pw", "once", "ack", 1);
      clients.command({ cmd: "publish", name: "pw", room: "once", data: "refuse me", ref: "refused" });
      const [nack] = await roomEvents("pw", "once", "nack", 1);
      expect(nack).toMatchObject({ reason: "not this one", data: "refuse me" });
      // The promises: the lost ack's settled by the resend (the drop did not reject it), the refusal rejected.
      const outcome = (ref: string) =>
        clients.waitFor(
          (e) => e.name === "pw" && (e.ev === "publish-stored" || e.ev === "publish-failed") && e.ref === ref,
          `the outcome of publish ${ref}`,
        );
      expect(await outcome("lost")).toMatchObject({ ev: "publish-stored", seq: ack!.seq });
      expect(await outcome("refused")).toMatchObject({
        ev: "publish-failed",
        code: "refused",
        message: "not this one",
      });
      clients.command({ cmd: "publish", name: "pw", room: "once", data: "after" });
      await clients.waitFor(
        (e) => e.name === "po" && e.ev === "room-message" && e.data === "after",
        "po sees after",
      );
      const stored = inRoom("po", "once", "message").filter((e) => e.data === "lose my ack");
      expect(stored, "stored once").toHaveLength(1);
      expect(ack).toMatchObject({ data: "lose my ack", seq: stored[0]!.seq });
      expect(roomData("pw", "once").filter((d) => d === "lose my ack")).toHaveLength(1);
      expect(roomData("po", "once")).not.toContain("refuse me");
      clients.close("pw");
      clients.close("po");
    });

    test("rooms: request resolves with the respond handler's value and rejects 'failed' with its throw", async () => {
      const server = await roomsServer();
      clients.connect("rq", server.url("rq"), FAST);
      clients.command({ cmd: "request", name: "rq", data: { ask: [1, 2] }, ref: "ok" });
      clients.command({ cmd: "request", name: "rq", data: "fail", ref: "bad" });
      const answer = (ref: string) =>
        clients.waitFor(
          (e) => e.name === "rq" && (e.ev === "response" || e.ev === "request-failed") && e.ref === ref,
          `the answer to request ${ref}`,
        );
      expect(await answer("ok")).toMatchObject({
        ev: "response",
        data: { echo: { ask: [1, 2] }, nick: "rq" },
      });
      expect(await answer("bad")).toMatchObject({
        ev: "request-failed",
        code: "failed",
        message: "no such thing",
      });
      clients.close("rq");
    });

    test("close() stops for good; a throwing listener is reported and the client carries on", async () => {
      const server = await chat();
      clients.connect("l", server.url("l"), FAST);
      const { id } = await opened("l");
      clients.command({ cmd: "throw-in", name: "l", type: "message" });
      await clients.send("l", "one");
      await clients.send("l", "two");
      await clients.waitFor((e) => e.name === "l" && e.data === `User ${id}: two`, "both echoes");
      const errors = clients.of("l", "error").map((e) => e.message);
      expect(errors).toContain('a "message" listener threw: listener boom in message');
      clients.close("l", 4321);
      const [closed] = await clients.waitForEvents("l", "close");
      expect(closed).toMatchObject({ code: 4321, willRetry: false, state: "closed" });
      expect(await clients.send("l", "after close")).toBe("dropped");
      expect(clients.of("l", "reconnecting")).toHaveLength(0);
    });
  });
}

/** The subprotocols a request offers, in order (runtimes differ in the spaces after the commas). */
function offeredProtocols(headers: Readonly<Record<string, string>>): string[] {
  return (headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

function listen(server: NetServer): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
