/**
 * `ChatRoom` on both fan-out paths: plain members get text, `?resume` members
 * get frames (welcome, numbered messages, gap, presence, notice); replay from a
 * resume point; `receive`, `validate` and `notify`; its options.
 */
import { describe, expect, test } from "vitest";
import { ChatRoom, type ChatRoomOptions, MAX_CHAT_MESSAGE } from "../../src/core/chat-room.ts";
import type { Connection } from "../../src/core/connection.ts";
import { type FakePeer, FakeServer, texts, until, WIRES, type WireKind } from "./fake-runtime.ts";

/** The example chat: a room, and a server that joins everyone to it and relays their messages. */
async function chat(kind: WireKind, options: ChatRoomOptions = {}) {
  const room = new ChatRoom(options);
  const server = await FakeServer.start(
    {
      onConnect: (conn) => room.addClient(conn),
      onMessage: (conn, raw) => {
        const message = room.receive(conn, raw);
        if (message !== undefined) room.broadcast(`User ${conn.id}: ${message}`);
      },
      onDisconnect: (conn) => room.removeClient(conn),
      validate: (conn, raw) => room.validate(conn, raw),
    },
    kind,
  );
  return { room, server };
}

/** The frames a resumable member received, parsed. */
const frames = (peer: FakePeer) =>
  texts(peer.transport).map((text) => JSON.parse(text) as Record<string, unknown>);
const joined = (conn: Connection) => `User ${conn.id} joined the chat`;
const left = (conn: Connection) => `User ${conn.id} left the chat`;
const say = (data: string) => JSON.stringify({ type: "message", data });

for (const kind of WIRES) {
  describe(`ChatRoom [${kind} wire]`, () => {
    test("plain members: the history once, then every message as text, joins and leaves included", async () => {
      const { server } = await chat(kind);
      const a = await server.connect();
      const b = await server.connect();
      server.receive(a.conn, "hello");
      server.peerClose(b.conn);
      await until(() => texts(a.transport).length === 4, "four messages to a");
      expect(texts(a.transport)).toEqual([
        joined(a.conn),
        joined(b.conn),
        `User ${a.conn.id}: hello`,
        left(b.conn),
      ]);
      expect(texts(b.transport)).toEqual([joined(a.conn), joined(b.conn), `User ${a.conn.id}: hello`]);
    });

    test("a resumable member: welcome first, the history as numbered frames, then live frames and presence", async () => {
      const { room, server } = await chat(kind);
      const plain = await server.connect();
      const r = await server.connect("/?resume");
      expect(frames(r)).toEqual([
        { type: "welcome", id: r.conn.id, epoch: room.epoch, seq: 1 },
        { type: "message", seq: 1, data: joined(plain.conn) },
        { type: "message", seq: 2, data: joined(r.conn) },
        { type: "presence", online: [plain.conn.id, r.conn.id] },
      ]);
      server.receive(plain.conn, "hi");
      expect(frames(r).at(-1)).toEqual({ type: "message", seq: 3, data: `User ${plain.conn.id}: hi` });
      expect(texts(plain.transport).at(-1)).toBe(`User ${plain.conn.id}: hi`); // plain text, no frame
      server.peerClose(plain.conn);
      await until(() => frames(r).length === 7, "the leave and the presence after it");
      expect(frames(r).slice(-2)).toEqual([
        { type: "message", seq: 4, data: left(plain.conn) },
        { type: "presence", online: [r.conn.id] },
      ]);
    });

    test("resuming from a point replays only what came after it", async () => {
      const { room, server } = await chat(kind);
      for (const text of ["one", "two", "three"]) room.broadcast(text);
      const r = await server.connect(`/?resume=${room.epoch}.1`);
      expect(frames(r)).toEqual([
        { type: "welcome", id: r.conn.id, epoch: room.epoch, seq: 3 },
        { type: "message", seq: 2, data: "two" },
        { type: "message", seq: 3, data: "three" },
        { type: "message", seq: 4, data: joined(r.conn) },
        { type: "presence", online: [r.conn.id] },
      ]);
    });

    test("a resume point older than the history gets a gap, then what the history has", async () => {
      const { room, server } = await chat(kind, { historyLimit: 2 });
      for (const text of ["1", "2", "3", "4", "5"]) room.broadcast(text);
      expect(room.messageHistory).toEqual(["4", "5"]);
      const r = await server.connect(`/?resume=${room.epoch}.1`);
      expect(frames(r).slice(0, 4)).toEqual([
        { type: "welcome", id: r.conn.id, epoch: room.epoch, seq: 5 },
        { type: "gap", from: 2, to: 3 },
        { type: "message", seq: 4, data: "4" },
        { type: "message", seq: 5, data: "5" },
      ]);
    });

    test("another epoch (the room restarted) replays everything, without a gap", async () => {
      const { room, server } = await chat(kind);
      room.broadcast("kept");
      const r = await server.connect("/?resume=someotherepoch.40");
      expect(frames(r).slice(0, 2)).toEqual([
        { type: "welcome", id: r.conn.id, epoch: room.epoch, seq: 1 },
        { type: "message", seq: 1, data: "kept" },
      ]);
    });

    test("a member ahead of the room gets nothing twice: messages from past its point on", async () => {
      const { room, server } = await chat(kind);
      room.broadcast("1");
      const r = await server.connect(`/?resume=${room.epoch}.3`); // its own join is 2
      room.broadcast("3");
      room.broadcast("4");
      const messages = frames(r).filter((frame) => frame.type === "message");
      expect(messages).toEqual([{ type: "message", seq: 4, data: "4" }]);
    });

    test("receive: plain text as it is; frames unwrapped; a ping answered; malformed frames dropped", async () => {
      const { room, server } = await chat(kind);
      const plain = await server.connect();
      const r = await server.connect("/?resume");
      expect(room.receive(plain.conn, say("x"))).toBe(say("x")); // a plain client's text is its message
      expect(room.receive(r.conn, say("hello"))).toBe("hello");
      expect(room.receive(r.conn, "plain text before the welcome arrived")).toBe(
        "plain text before the welcome arrived",
      );
      expect(room.receive(r.conn, JSON.stringify({ type: "bogus" }))).toBeUndefined();
      expect(room.receive(r.conn, JSON.stringify({ type: "message", data: 5 }))).toBeUndefined();
      const before = frames(r).length;
      expect(room.receive(r.conn, JSON.stringify({ type: "ping" }))).toBeUndefined();
      expect(frames(r).slice(before)).toEqual([{ type: "pong" }]);
    });

    test("plain text from a resumable member is taken as a chat message", async () => {
      const { room, server } = await chat(kind);
      const r = await server.connect("/?resume");
      server.receive(r.conn, "typed before the welcome");
      expect(room.messageHistory.at(-1)).toBe(`User ${r.conn.id}: typed before the welcome`);
      expect(frames(r).at(-1)).toEqual({
        type: "message",
        seq: 2,
        data: `User ${r.conn.id}: typed before the welcome`,
      });
    });

    test("validate: refusals reach nobody; a plain sender gets text, a resumable one a notice frame", async () => {
      const { room, server } = await chat(kind);
      const plain = await server.connect();
      const r = await server.connect("/?resume");
      const seq = room.lastSeq;
      server.receive(plain.conn, "   ");
      expect(texts(plain.transport).at(-1)).toBe("Invalid message: message is empty");
      server.receive(r.conn, say("bell\u0007"));
      expect(frames(r).at(-1)).toEqual({
        type: "notice",
        text: "Invalid message: message contains control characters",
      });
      server.receive(r.conn, say("x".repeat(MAX_CHAT_MESSAGE + 1)));
      expect(frames(r).at(-1)).toEqual({
        type: "notice",
        text: `Invalid message: message is over ${MAX_CHAT_MESSAGE} characters`,
      });
      server.receive(r.conn, JSON.stringify({ type: "ping" })); // protocol frames pass
      expect(frames(r).at(-1)).toEqual({ type: "pong" });
      expect(room.lastSeq).toBe(seq);
      expect(room.validate(plain.conn, new Uint8Array([1]))).toBe("text messages only");
      expect(
        room.validate(r.conn, say("ok"), (message) => (message === "ok" ? "custom rule" : true)),
      ).toEqual({
        reason: "custom rule",
        reply: JSON.stringify({ type: "notice", text: "Invalid message: custom rule" }),
      });
    });

    test("notify: to one member only, outside the history; text or a notice frame", async () => {
      const { room, server } = await chat(kind);
      const plain = await server.connect();
      const r = await server.connect("/?resume");
      const [seq, history] = [room.lastSeq, room.messageHistory];
      expect(room.notify(plain.conn, "just for you")).toBe(true);
      expect(room.notify(r.conn, "and you")).toBe(true);
      expect(texts(plain.transport).at(-1)).toBe("just for you");
      expect(frames(r).at(-1)).toEqual({ type: "notice", text: "and you" });
      expect(room.lastSeq).toBe(seq);
      expect(room.messageHistory).toEqual(history);
    });

    test("a room's audiences are not topics; removeClient stops delivery", async () => {
      const { room, server } = await chat(kind);
      const a = await server.connect();
      const b = await server.connect();
      expect([...a.conn.topics]).toEqual([]);
      room.removeClient(b.conn);
      room.broadcast("after b left");
      expect(texts(a.transport).slice(-2)).toEqual([left(b.conn), "after b left"]);
      expect(texts(b.transport)).not.toContain("after b left");
      expect(room.clients.has(b.conn.id)).toBe(false);
    });
  });
}

describe("ChatRoom: history, publish, native fan-out, options", () => {
  test("historyLimit keeps the latest messages; 0 keeps none; publish resolves with the sequence number", async () => {
    const room = new ChatRoom({ historyLimit: 3 });
    for (const text of ["a", "b", "c", "d"]) room.broadcast(text);
    expect(room.messageHistory).toEqual(["b", "c", "d"]);
    expect(await room.publish("e")).toBe(5);
    expect(room.lastSeq).toBe(5);
    const none = new ChatRoom({ historyLimit: 0 });
    none.broadcast("gone");
    expect(none.messageHistory).toEqual([]);
    expect(none.lastSeq).toBe(1);
  });

  test("on the native path a room message is one publish per audience, not one send per member", async () => {
    const { room, server } = await chat("native");
    for (let i = 0; i < 5; i++) await server.connect();
    for (let i = 0; i < 2; i++) await server.connect("/?resume");
    const before = server.native.publishes.length;
    room.broadcast("to everyone");
    const published = server.native.publishes.slice(before);
    expect(published.map((entry) => entry.message)).toEqual([
      "to everyone",
      JSON.stringify({ type: "message", seq: room.lastSeq, data: "to everyone" }),
    ]);
    expect(published.every((entry) => entry.group.startsWith("a:"))).toBe(true);
  });

  test("a room whose members are on two servers: one publish per server, every member gets it", async () => {
    const room = new ChatRoom();
    const servers = [await FakeServer.start({}, "native"), await FakeServer.start({}, "native")];
    const peers = [await servers[0]!.connect(), await servers[1]!.connect(), await servers[1]!.connect()];
    for (const { conn } of peers) room.addClient(conn);
    const before = servers.map((server) => server.native.publishes.length);
    room.broadcast("both");
    expect(servers.map((server, i) => server.native.publishes.length - before[i]!)).toEqual([1, 1]);
    for (const { transport } of peers) expect(texts(transport).at(-1)).toBe("both");
  });

  test("unknown or bad options throw TypeError", () => {
    expect(() => new ChatRoom({ histryLimit: 5 } as ChatRoomOptions)).toThrow(
      new TypeError(
        "options.histryLimit is not an option (did you mean historyLimit?); known: historyLimit, onError",
      ),
    );
    expect(() => new ChatRoom({ historyLimit: -1 })).toThrow(
      new TypeError("options.historyLimit must be a non-negative integer, got number -1"),
    );
    expect(() => new ChatRoom({ historyLimit: 1.5 })).toThrow(
      new TypeError("options.historyLimit must be a non-negative integer, got number 1.5"),
    );
  });
});
