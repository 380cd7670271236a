/**
 * `client.join`: the room handles of polysocket/client against a tiny server
 * written here with `ws` that speaks the multi-room frames (joined, gap,
 * replay, presence; publish, leave). It replays from one message before the
 * resume point on purpose, so exactly-once rests on the client. The real
 * `Rooms` server is tested in test/client-suite.ts and test/rooms-example.test.ts.
 */
import { afterEach, describe, expect, test } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type Client, connect } from "../src/client/index.ts";
import { record } from "./harness/room-recorder.ts";

interface Entry {
  seq: number;
  data: unknown;
  binary?: true;
}

/** A multi-room server in a few lines: every room's history, members, and what each join asked for. */
class TinyRooms {
  readonly wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  epoch = "e1";
  historyLimit = 100;
  /** Rooms whose join is refused, with the reason. */
  readonly refuse = new Map<string, string>();
  readonly joins: Record<string, unknown>[] = [];
  readonly rooms = new Map<string, { history: Entry[]; seq: number; members: Set<WebSocket> }>();
  /** Every publish frame received, in order. */
  readonly publishes: Record<string, unknown>[] = [];
  /** Stored publishes by room/session/ref: a repeat is acknowledged with its first seq. */
  readonly stored = new Map<string, number>();
  /** Drop the connection once, after storing the next publish and before acknowledging it. */
  dropBeforeAck = false;
  /** Store publishes without answering them (an ack that never comes). */
  silent = false;
  /** Answer each publish's first arrival with a retryable nack. */
  retryOnce = false;
  readonly #retried = new Set<string>();
  /** Sockets held before their welcome (a slow server). */
  holdWelcome = false;
  readonly held: WebSocket[] = [];
  #ids = 0;

  constructor() {
    this.wss.on("connection", (ws) => {
      const id = `c${++this.#ids}`;
      (ws as WebSocket & { id: string }).id = id;
      ws.on("message", (raw) => this.#frame(ws, JSON.parse(String(raw))));
      ws.on("close", () => {
        for (const [name, room] of this.rooms) if (room.members.delete(ws)) this.#presence(name);
      });
      if (this.holdWelcome) this.held.push(ws);
      else this.welcome(ws);
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as { port: number }).port}/rooms`;
  }

  welcome(ws: WebSocket): void {
    ws.send(JSON.stringify({ type: "welcome", id: (ws as WebSocket & { id: string }).id }));
  }

  room(name: string) {
    const room = this.rooms.get(name) ?? { history: [], seq: 0, members: new Set<WebSocket>() };
    this.rooms.set(name, room);
    return room;
  }

  publish(name: string, data: unknown, binary?: true): number {
    const room = this.room(name);
    const entry: Entry = { seq: ++room.seq, data, ...(binary ? { binary } : {}) };
    room.history.push(entry);
    if (room.history.length > this.historyLimit) room.history.shift();
    for (const member of room.members) member.send(JSON.stringify({ type: "message", room: name, ...entry }));
    return entry.seq;
  }

  /** Drops every connection without a close frame. */
  dropAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  #frame(ws: WebSocket, frame: Record<string, unknown>): void {
    const name = frame.room as string;
    if (frame.type === "join") this.#join(ws, name, frame);
    if (frame.type === "publish") this.#publish(ws, name, frame);
    if (frame.type === "leave") {
      this.room(name).members.delete(ws);
      ws.send(JSON.stringify({ type: "left", room: name }));
      this.#presence(name);
    }
  }

  /** A member's publish, stored once per session and number, answered ack or nack. */
  #publish(ws: WebSocket, name: string, frame: Record<string, unknown>): void {
    this.publishes.push(frame);
    const { ref } = frame;
    const answer = (reply: object) => ws.send(JSON.stringify({ room: name, ref, ...reply }));
    const key = `${name}/${String(frame.session)}/${String(ref)}`;
    if (frame.data === "refuse me") {
      answer({ type: "nack", reason: "not this one" });
    } else if (this.retryOnce && !this.#retried.has(key)) {
      this.#retried.add(key);
      answer({ type: "nack", reason: "try again", retry: true });
    } else {
      this.#store(ws, key, name, frame, answer);
    }
  }

  #store(
    ws: WebSocket,
    key: string,
    name: string,
    frame: Record<string, unknown>,
    answer: (r: object) => void,
  ): void {
    const seq = this.stored.get(key) ?? this.publish(name, frame.data, frame.binary as true | undefined);
    this.stored.set(key, seq);
    if (this.silent) return;
    if (this.dropBeforeAck) {
      this.dropBeforeAck = false;
      ws.terminate();
      return;
    }
    answer({ type: "ack", seq });
  }

  #join(ws: WebSocket, name: string, frame: Record<string, unknown>): void {
    this.joins.push(frame);
    const reason = this.refuse.get(name);
    if (reason) return void ws.send(JSON.stringify({ type: "left", room: name, reason }));
    const room = this.room(name);
    room.members.add(ws);
    ws.send(JSON.stringify({ type: "joined", room: name, epoch: this.epoch, seq: room.seq }));
    const after = frame.epoch === this.epoch ? (frame.seq as number) : 0;
    const first = room.history[0]?.seq ?? room.seq + 1;
    if (after + 1 < first)
      ws.send(JSON.stringify({ type: "gap", room: name, from: after + 1, to: first - 1 }));
    // One message too many on purpose: the client must drop what it delivered already.
    for (const entry of room.history.filter((e) => e.seq >= after)) {
      ws.send(JSON.stringify({ type: "message", room: name, ...entry }));
    }
    this.#presence(name);
  }

  #presence(name: string): void {
    const room = this.room(name);
    // The whole list, with ids, on every change (a Rooms server sends it once, then changes alone).
    const members = [...room.members].map((m) => {
      const id = (m as WebSocket & { id: string }).id;
      return { id, info: { nick: id } };
    });
    for (const member of room.members) member.send(JSON.stringify({ type: "presence", room: name, members }));
  }
}

const FAST = { minDelay: 5, maxDelay: 20, heartbeatInterval: 0 };
const servers: TinyRooms[] = [];
const clients: Client[] = [];

async function start(): Promise<TinyRooms> {
  const server = new TinyRooms();
  servers.push(server);
  await new Promise((resolve) => server.wss.once("listening", resolve));
  return server;
}

function open(url: string, options = {}): Client {
  const client = connect(url, { ...FAST, ...options });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe("client rooms (against a tiny multi-room server)", () => {
  test("joins before the welcome; each room gets its own messages, text, JSON and bytes", async () => {
    const server = await start();
    server.holdWelcome = true;
    const client = open(server.url);
    const a = client.join("a");
    const b = client.join("b");
    expect(client.join("a")).toBe(a);
    const early = a.publish("queued early");
    expect(a.queued).toBe(1);
    const ra = record(a);
    const rb = record(b);
    await until(() => server.held.length === 1, "the held connection");
    expect(server.joins).toEqual([]); // nothing goes out before the welcome
    server.welcome(server.held[0]!);
    await ra.wait("joined");
    await rb.wait("joined");
    expect(server.joins).toEqual([
      { type: "join", room: "a" },
      { type: "join", room: "b" },
    ]);
    await expect(early).resolves.toBe(1); // its seq, once stored
    await expect(b.publish({ move: "e4" })).resolves.toBe(1);
    await expect(b.publish(new Uint8Array([0, 1, 255]))).resolves.toBe(2);
    await ra.wait("message");
    await rb.wait("message", 2);
    expect(ra.data()).toEqual(["queued early"]);
    expect(rb.data()).toEqual([{ move: "e4" }, new Uint8Array([0, 1, 255])]);
    expect((await rb.wait("presence")).at(-1)!.online).toEqual([{ nick: "c1" }]);
    expect(client.rooms.map((room) => room.name)).toEqual(["a", "b"]);
  });

  test("after a reconnect every room rejoins from its own point and delivers each message once", async () => {
    const server = await start();
    const client = open(server.url);
    const a = record(client.join("a"));
    const b = record(client.join("b"));
    await a.wait("joined");
    await b.wait("joined");
    for (let i = 1; i <= 3; i++) server.publish("a", `a${i}`);
    server.publish("b", "b1");
    await a.wait("message", 3);
    await b.wait("message", 1);
    server.joins.length = 0;
    server.dropAll();
    await a.wait("joined", 2);
    await b.wait("joined", 2);
    expect(server.joins).toEqual([
      { type: "join", room: "a", epoch: "e1", seq: 3 },
      { type: "join", room: "b", epoch: "e1", seq: 1 },
    ]);
    server.publish("a", "a4");
    server.publish("b", "b2");
    await a.wait("message", 4);
    await b.wait("message", 2);
    expect(a.data()).toEqual(["a1", "a2", "a3", "a4"]);
    expect(b.data()).toEqual(["b1", "b2"]);
    expect(a.of("joined").map((j) => j.rejoin)).toEqual([false, true]);
  });

  test("history that does not reach back is a gap; a new epoch is a restart gap", async () => {
    const server = await start();
    server.historyLimit = 2;
    const client = open(server.url);
    const room = record(client.join("g"));
    await room.wait("joined");
    server.publish("g", "m1");
    await room.wait("message");
    server.held.length = 0;
    server.holdWelcome = true;
    server.dropAll();
    await until(() => server.held.length === 1, "the reconnect");
    for (let i = 2; i <= 6; i++) server.publish("g", `m${i}`); // only m5, m6 kept
    server.welcome(server.held[0]!);
    await room.wait("message", 3);
    expect(room.of("gap")).toEqual([{ reason: "history", from: 2, to: 4 }]);
    expect(room.data()).toEqual(["m1", "m5", "m6"]);

    server.epoch = "e2";
    server.rooms.clear();
    server.holdWelcome = false;
    server.dropAll();
    await room.wait("joined", 3);
    server.publish("g", "fresh");
    await room.wait("message", 4);
    expect(room.of("gap").at(-1)).toEqual({ reason: "restart", after: 6 });
    expect(room.data().at(-1)).toBe("fresh");
    expect(client.join("g").lastSeq).toBe(1);
  });

  test("a refused join is left with the reason and not retried; leave() is final", async () => {
    const server = await start();
    server.refuse.set("secret", "members only");
    const client = open(server.url);
    const secret = record(client.join("secret"));
    const open1 = client.join("open");
    const room = record(open1);
    expect((await secret.wait("left"))[0]).toEqual({ reason: "members only" });
    await room.wait("joined");
    open1.leave();
    expect(room.of("left")).toEqual([{ reason: undefined }]);
    expect(open1.state).toBe("left");
    await expect(open1.publish("late")).rejects.toMatchObject({
      name: "PublishError",
      code: "left",
      maybeStored: false,
      message: "not sent: the room was left",
    });
    await until(() => server.room("open").members.size === 0, "the server to see the leave");
    server.joins.length = 0;
    server.dropAll();
    const again = record(client.join("again"));
    await again.wait("joined");
    expect(server.joins).toEqual([{ type: "join", room: "again" }]);
    expect(client.rooms.map((r) => r.name)).toEqual(["again"]);
  });

  test("a publish whose ack was lost is sent again after the rejoin, same number, and stored once", async () => {
    const server = await start();
    const client = open(server.url);
    const room = client.join("once");
    const seen = record(room);
    await seen.wait("joined");
    await expect(room.publish("first")).resolves.toBe(1);
    expect(seen.of("ack")).toEqual([{ seq: 1, data: "first" }]);
    server.dropBeforeAck = true;
    const second = room.publish("second");
    expect(room.queued).toBe(1); // not acknowledged
    await seen.wait("joined", 2);
    await expect(second, "the reconnect does not reject: settled by the resend's ack").resolves.toBe(2);
    expect((await seen.wait("ack", 2))[1]).toEqual({ seq: 2, data: "second" });
    expect(room.queued).toBe(0);
    const sent = server.publishes.map(({ data, ref, session }) => [data, ref, session]);
    const session = sent[0]![2];
    expect(session).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(sent).toEqual([
      ["first", 1, session],
      ["second", 2, session],
      ["second", 2, session], // the resend: same session and number
    ]);
    expect(server.room("once").history.map((e) => e.data)).toEqual(["first", "second"]);
    expect(seen.data()).toEqual(["first", "second"]); // delivered once, too
  });

  test("a retryable nack sends what is unacknowledged again after a backoff; a final one is a nack event", async () => {
    const server = await start();
    server.retryOnce = true;
    const client = open(server.url, { minDelay: 40, maxDelay: 40 });
    const room = client.join("retry");
    const seen = record(room);
    await seen.wait("joined");
    const started = Date.now();
    const both = Promise.all([room.publish("a"), room.publish("b")]);
    await expect(both, "a retryable nack does not reject").resolves.toEqual([1, 2]);
    const took = Date.now() - started;
    expect(took, "one resend, after at most maxDelay").toBeLessThan(1000);
    expect(seen.of("ack").map((a) => a.data)).toEqual(["a", "b"]);
    expect(server.publishes.map((p) => [p.data, p.ref])).toEqual([
      ["a", 1],
      ["b", 2],
      ["a", 1],
      ["b", 2],
    ]);
    server.retryOnce = false;
    await expect(room.publish("refuse me")).rejects.toMatchObject({
      name: "PublishError",
      code: "refused",
      message: "not this one",
      maybeStored: false,
    });
    expect(seen.of("nack")).toEqual([{ reason: "not this one", data: "refuse me" }]);
    expect(room.queued).toBe(0);
    await expect(room.publish("after")).resolves.toBe(3);
    expect(server.publishes.at(-1)).toMatchObject({ data: "after", ref: 4 }); // the refused one used up 3
  });

  test("bad names and data are TypeErrors; close() leaves every room", async () => {
    const server = await start();
    const client = open(server.url);
    expect(() => client.join("")).toThrow(TypeError);
    expect(() => client.join("a\nb")).toThrow(TypeError);
    const room = client.join("x");
    const seen = record(room);
    expect(() => room.publish(undefined as never)).toThrow(
      new TypeError("publish data must be a string, a Uint8Array or a JSON value, got undefined"),
    );
    expect(() => room.publish({ when: new Date() } as never)).toThrow(TypeError);
    expect(() => room.publish(Number.NaN)).toThrow(TypeError);
    expect(() => room.publish("x", { timeout: 0 })).toThrow(
      new TypeError("options.timeout must be a number > 0 (ms), got 0"),
    );
    const waiting = room.publish("waits for the join");
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: "closed", maybeStored: false });
    expect(seen.of("left")).toEqual([{ reason: "client closed" }]);
    expect(() => client.join("y")).toThrow(new TypeError("cannot join a room: the client is closed"));
    expect(() => open(server.url, { resume: false }).join("z")).toThrow(
      new TypeError("cannot join a room with resume: false (rooms speak the resumable protocol)"),
    );
  });
});

describe("room.publish's promise (against the tiny server)", () => {
  test("a timeout before sending takes the publish back; after sending it rejects with maybeStored and the ack may still come", async () => {
    const server = await start();
    server.holdWelcome = true;
    const client = open(server.url);
    const room = client.join("t");
    const seen = record(room);
    const started = Date.now();
    const early = room.publish("too early", { timeout: 150 });
    await expect(early).rejects.toMatchObject({
      code: "timeout",
      maybeStored: false,
      message: "not sent within 150 ms (taken back)",
    });
    const took = Date.now() - started;
    expect(took, "rejected at its deadline, not before or long after").toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1500);
    expect(room.queued).toBe(0);
    await until(() => server.held.length === 1, "the held connection");
    server.welcome(server.held[0]!);
    await seen.wait("joined");
    server.silent = true;
    const unanswered = room.publish("no answer", { timeout: 150 });
    await expect(unanswered).rejects.toMatchObject({ code: "timeout", maybeStored: true });
    expect(server.publishes.map((p) => p.data)).toEqual(["no answer"]); // the one taken back never went
    expect(room.queued, "still sent again until answered").toBe(1);
    server.silent = false;
    server.holdWelcome = false;
    server.dropAll(); // the resend after the rejoin is answered: the ack event still tells
    expect((await seen.wait("ack"))[0]).toEqual({ seq: 1, data: "no answer" });
  });

  test("a full queue rejects with overflow: the new one (drop-newest) or the oldest (drop-oldest)", async () => {
    const server = await start();
    server.holdWelcome = true;
    const newest = open(server.url, { maxQueued: 1 }).join("q");
    const kept = newest.publish("kept");
    await expect(newest.publish("no room")).rejects.toMatchObject({ code: "overflow", maybeStored: false });
    const oldest = open(server.url, { maxQueued: 1, overflow: "drop-oldest" }).join("q");
    const pushedOut = oldest.publish("pushed out");
    const last = oldest.publish("last");
    await expect(pushedOut).rejects.toMatchObject({
      code: "overflow",
      message: "not sent: the room's queue is full (maxQueued)",
    });
    await until(() => server.held.length === 2, "both connections");
    for (const ws of server.held) server.welcome(ws);
    await expect(kept).resolves.toBeGreaterThan(0);
    await expect(last).resolves.toBeGreaterThan(0);
    expect(
      server
        .room("q")
        .history.map((e) => e.data)
        .sort(),
    ).toEqual(["kept", "last"]);
  });

  test("close() rejects an unanswered publish with closed, maybeStored: it was sent", async () => {
    const server = await start();
    server.silent = true;
    const client = open(server.url);
    const room = client.join("c");
    await record(room).wait("joined");
    const sent = room.publish("sent, never answered");
    await until(() => server.publishes.length === 1, "the publish at the server");
    client.close();
    await expect(sent).rejects.toMatchObject({ code: "closed", maybeStored: true });
  });

  test("fire and forget: a refusal nobody awaits is no unhandled rejection", async () => {
    const server = await start();
    const room = open(server.url).join("f");
    const seen = record(room);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      room.publish("refuse me"); // ignored on purpose
      await seen.wait("nack");
      await new Promise((resolve) => setTimeout(resolve, 50)); // unhandled rejections are reported after a turn
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
