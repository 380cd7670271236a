/**
 * `Rooms` on both fan-out paths, in process: many rooms per connection, the
 * room frames (join, joined, message, gap, presence, leave, left, publish),
 * resume per room, payload kinds, hooks, limits, and rooms opened lazily and
 * released when empty. The per-runtime suite (test/rooms-suite.ts) proves the
 * same over real sockets.
 */
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import type { Connection } from "../../src/core/connection.ts";
import { MemoryRoomStore } from "../../src/core/rooms/memory-store.ts";
import type { RoomsOptions } from "../../src/core/rooms/options.ts";
import { Rooms } from "../../src/core/rooms/rooms.ts";
import {
  OUT_OF_ORDER,
  type RoomData,
  type RoomListener,
  type RoomStore,
} from "../../src/core/rooms/store.ts";
import { type FakePeer, FakeServer, texts, until, WIRES, type WireKind } from "./fake-runtime.ts";

type Frame = Record<string, unknown>;

async function roomsServer<Message = RoomData>(kind: WireKind, options: RoomsOptions<Message> = {}) {
  const rooms = new Rooms<Message>(options);
  const app: (string | Uint8Array)[] = [];
  const server = await FakeServer.start(
    {
      onConnect: (conn) => rooms.accept(conn),
      onMessage: (conn, raw) => {
        const rest = rooms.receive(conn, raw);
        if (rest !== undefined) app.push(rest);
      },
      onDisconnect: (conn) => rooms.drop(conn),
    },
    kind,
  );
  return { rooms, server, app };
}

const frames = (peer: FakePeer): Frame[] => texts(peer.transport).map((text) => JSON.parse(text) as Frame);
const inRoom = (peer: FakePeer, room: string) => frames(peer).filter((f) => f.room === room);
const messages = (peer: FakePeer, room: string) =>
  inRoom(peer, room)
    .filter((f) => f.type === "message")
    .map((f) => [f.seq, f.data]);
const send = (server: FakeServer, conn: Connection, frame: Frame) =>
  server.receive(conn, JSON.stringify(frame));

for (const kind of WIRES) {
  describe(`Rooms [${kind} wire]`, () => {
    test("welcome on accept, then one connection in two rooms gets each room's messages, named", async () => {
      const { server } = await roomsServer(kind);
      const a = await server.connect();
      const b = await server.connect();
      expect(frames(a)[0]).toEqual({ type: "welcome", id: a.conn.id });
      for (const room of ["red", "blue"]) send(server, a.conn, { type: "join", room });
      send(server, b.conn, { type: "join", room: "red" });
      await until(() => inRoom(b, "red").some((f) => f.type === "joined"), "b joined red");
      send(server, b.conn, { type: "publish", room: "red", data: "hi red" });
      send(server, a.conn, { type: "publish", room: "blue", data: { n: 1 } });
      await until(
        () => messages(a, "blue").length === 1 && messages(a, "red").length === 1,
        "a: one message per room",
      );
      expect(messages(a, "red")).toEqual([[1, "hi red"]]);
      expect(messages(a, "blue")).toEqual([[1, { n: 1 }]]);
      expect(messages(b, "red")).toEqual([[1, "hi red"]]);
      expect(inRoom(b, "blue"), "b is not in blue").toEqual([]);
    });

    test("joined carries the epoch and latest number, then the history, then presence with everyone's info", async () => {
      const { rooms, server } = await roomsServer(kind, { presence: (conn) => `nick-${conn.id}` });
      await rooms.publish("lobby", "one");
      await rooms.publish("lobby", "two");
      const a = await server.connect();
      send(server, a.conn, { type: "join", room: "lobby" });
      await until(
        () => inRoom(a, "lobby").filter((f) => f.type === "presence").length === 2,
        "presence in lobby",
      );
      const epoch = rooms.get("lobby")!.epoch;
      expect(inRoom(a, "lobby")).toEqual([
        { type: "joined", room: "lobby", epoch, seq: 2 },
        { type: "message", room: "lobby", seq: 1, data: "one" },
        { type: "message", room: "lobby", seq: 2, data: "two" },
        { type: "presence", room: "lobby", members: [] }, // the list as it was: its own join follows
        { type: "presence", room: "lobby", joined: { id: a.conn.id, info: `nick-${a.conn.id}` } },
      ]);
    });

    test("a rejoin with a resume point replays only what came after it, per room, exactly once", async () => {
      const { rooms, server } = await roomsServer(kind);
      const keeper = await server.connect(); // keeps both rooms open
      for (const room of ["x", "y"]) send(server, keeper.conn, { type: "join", room });
      await until(() => rooms.names.length === 2, "both rooms open");
      for (const text of ["x1", "x2", "x3"]) await rooms.publish("x", text);
      for (const text of ["y1", "y2"]) await rooms.publish("y", text);
      const back = await server.connect();
      send(server, back.conn, { type: "join", room: "x", epoch: rooms.get("x")!.epoch, seq: 2 });
      send(server, back.conn, { type: "join", room: "y", epoch: rooms.get("y")!.epoch, seq: 2 });
      await until(() => inRoom(back, "y").some((f) => f.type === "joined"), "joined y");
      expect(messages(back, "x")).toEqual([[3, "x3"]]);
      expect(messages(back, "y")).toEqual([]);
      await rooms.publish("y", "y3");
      expect(messages(back, "y")).toEqual([[3, "y3"]]);
    });

    test("a resume point older than the history gets a gap first; another epoch gets everything", async () => {
      const { rooms, server } = await roomsServer(kind, { historyLimit: 2 });
      const keeper = await server.connect();
      send(server, keeper.conn, { type: "join", room: "g" });
      await until(() => rooms.get("g") !== undefined, "g open");
      for (const text of ["1", "2", "3", "4"]) await rooms.publish("g", text);
      const late = await server.connect();
      send(server, late.conn, { type: "join", room: "g", epoch: rooms.get("g")!.epoch, seq: 1 });
      const stranger = await server.connect();
      send(server, stranger.conn, { type: "join", room: "g", epoch: "other", seq: 3 });
      await until(() => messages(stranger, "g").length === 2, "the stranger's replay");
      expect(
        inRoom(late, "g")
          .filter((f) => f.type !== "presence")
          .slice(1),
      ).toEqual([
        { type: "gap", room: "g", from: 2, to: 2 },
        { type: "message", room: "g", seq: 3, data: "3" },
        { type: "message", room: "g", seq: 4, data: "4" },
      ]);
      expect(messages(stranger, "g")).toEqual([
        [3, "3"],
        [4, "4"],
      ]);
    });

    test("history by age: messages older than maxAge are not replayed, and the gap says so", async () => {
      let now = Date.now() - 120_000;
      const store = new MemoryRoomStore(() => now);
      const { rooms, server } = await roomsServer(kind, { store, maxAge: 60_000 });
      const keeper = await server.connect();
      send(server, keeper.conn, { type: "join", room: "age" });
      await until(() => rooms.get("age") !== undefined, "age open");
      await rooms.publish("age", "two minutes old");
      now = Date.now();
      await rooms.publish("age", "new");
      const late = await server.connect();
      send(server, late.conn, { type: "join", room: "age", epoch: rooms.get("age")!.epoch, seq: 0 });
      await until(() => messages(late, "age").length >= 1, "the replay");
      expect(messages(late, "age")).toEqual([[2, "new"]]);
      expect(inRoom(late, "age")[1]).toEqual({ type: "gap", room: "age", from: 1, to: 1 });
      expect(rooms.get("age")!.history.map((entry) => entry.data)).toEqual(["new"]);
    });

    test("binary payloads: base64 in frames both ways, bytes copied when published", async () => {
      const { rooms, server } = await roomsServer(kind);
      const a = await server.connect();
      send(server, a.conn, { type: "join", room: "bin" });
      await until(() => rooms.get("bin") !== undefined, "bin open");
      const bytes = new Uint8Array([0, 1, 254, 255]);
      const published = rooms.publish("bin", bytes);
      bytes.fill(7);
      await published;
      send(server, a.conn, { type: "publish", room: "bin", data: btoa("\u0009\u0008"), binary: true });
      await until(() => messages(a, "bin").length === 2, "two binary messages");
      expect(inRoom(a, "bin").filter((f) => f.type === "message")).toEqual([
        { type: "message", room: "bin", seq: 1, data: btoa("\u0000\u0001\u00fe\u00ff"), binary: true },
        { type: "message", room: "bin", seq: 2, data: btoa("\u0009\u0008"), binary: true },
      ]);
    });

    test("leave: left frame, no more messages, presence updated for the others, join/leave notices from hooks", async () => {
      const { rooms, server } = await roomsServer(kind, {
        joinNotice: (member, room) => ({ joined: member.id, room }),
        leaveNotice: (member) => `${member.id} left`,
      });
      const a = await server.connect();
      const b = await server.connect();
      send(server, a.conn, { type: "join", room: "r" });
      send(server, b.conn, { type: "join", room: "r" });
      await until(() => messages(a, "r").length === 2, "both joins");
      send(server, b.conn, { type: "leave", room: "r" });
      await until(() => messages(a, "r").length === 3, "the leave notice");
      expect(messages(a, "r")).toEqual([
        [1, { joined: a.conn.id, room: "r" }],
        [2, { joined: b.conn.id, room: "r" }],
        [3, `${b.conn.id} left`],
      ]);
      expect(inRoom(a, "r").at(-1)).toEqual({ type: "presence", room: "r", left: b.conn.id });
      // b joined second: it had the list with a in it, then its own join.
      expect(
        inRoom(b, "r")
          .filter((f) => f.type === "presence")
          .slice(0, 2),
      ).toEqual([
        { type: "presence", room: "r", members: [{ id: a.conn.id, info: a.conn.id }] },
        { type: "presence", room: "r", joined: { id: b.conn.id, info: b.conn.id } },
      ]);
      expect(inRoom(b, "r").at(-1)).toEqual({ type: "left", room: "r" });
      await rooms.publish("r", "after");
      expect(messages(b, "r").map(([seq]) => seq)).toEqual([1, 2]);
    });

    test("refusals: canJoin's reason, too many rooms, a publish to a room not joined, malformed frames", async () => {
      const { server, app } = await roomsServer(kind, {
        canJoin: async (_conn, room) => (room.startsWith("secret") ? "members only" : true),
        maxRoomsPerConnection: 2,
      });
      const a = await server.connect();
      for (const room of ["secret-1", "one", "two", "three"]) send(server, a.conn, { type: "join", room });
      await until(() => frames(a).filter((f) => f.type === "left").length === 2, "two refusals");
      const lefts = frames(a).filter((f) => f.type === "left");
      expect(lefts).toContainEqual({ type: "left", room: "secret-1", reason: "members only" });
      expect(lefts).toContainEqual({ type: "left", room: "three", reason: "too many rooms (at most 2)" });
      send(server, a.conn, { type: "publish", room: "elsewhere", data: "x" });
      send(server, a.conn, { type: "join", room: "" });
      server.receive(a.conn, "plain text for the app");
      await until(() => frames(a).filter((f) => f.type === "notice").length === 2, "two notices");
      expect(frames(a).filter((f) => f.type === "notice")).toEqual([
        { type: "notice", room: "elsewhere", text: "not in this room" },
        { type: "notice", text: "malformed frame" },
      ]);
      expect(app).toEqual(["plain text for the app"]);
    });

    test("onPublish decides what is stored, keeps each sender's order when async, and a throw is told to the sender", async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { server } = await roomsServer(kind, {
        onPublish: async (conn, _room, data) => {
          if (data === "slow") await gate;
          if (data === "bad") throw new Error("not here");
          return data === "drop" ? undefined : { from: conn.id, text: String(data) };
        },
      });
      const a = await server.connect();
      send(server, a.conn, { type: "join", room: "o" });
      await until(() => inRoom(a, "o").some((f) => f.type === "joined"), "joined o");
      for (const data of ["slow", "fast", "drop", "bad", "last"])
        send(server, a.conn, { type: "publish", room: "o", data });
      await until(() => true, "the publishes to be under way");
      expect(messages(a, "o"), "nothing overtakes the slow first message").toEqual([]);
      release();
      await until(() => messages(a, "o").length === 3, "three stored messages");
      expect(messages(a, "o").map(([, data]) => (data as { text: string }).text)).toEqual([
        "slow",
        "fast",
        "last",
      ]);
      expect(inRoom(a, "o").find((f) => f.type === "notice")).toEqual({
        type: "notice",
        room: "o",
        text: "Message not delivered: not here",
      });
    });

    test("a publish with a ref is answered: ack with its seq once stored, nack with the reason otherwise", async () => {
      const { server } = await roomsServer(kind, {
        onPublish: (_conn, _room, data) => {
          if (data === "bad") throw new Error("not here");
          return data === "drop" ? undefined : data;
        },
      });
      const a = await server.connect();
      send(server, a.conn, { type: "join", room: "acks" });
      await until(() => inRoom(a, "acks").some((f) => f.type === "joined"), "joined acks");
      send(server, a.conn, { type: "publish", room: "acks", data: "one", ref: 1 });
      send(server, a.conn, { type: "publish", room: "acks", data: "drop", ref: 2 });
      send(server, a.conn, { type: "publish", room: "acks", data: "bad", ref: "three" });
      send(server, a.conn, { type: "publish", room: "elsewhere", data: "x", ref: 4 });
      send(server, a.conn, { type: "publish", room: "acks", data: "!!", binary: true, ref: 5 });
      send(server, a.conn, { type: "publish", room: "acks", data: "two", ref: 6 });
      const answers = () => frames(a).filter((f) => f.type === "ack" || f.type === "nack");
      await until(() => answers().length === 6, "six answers");
      // Answers are matched by ref: a refusal may overtake an ack still on its way from the store.
      const byRef = (f: Frame) => String(f.ref);
      expect(answers().sort((x, y) => byRef(x).localeCompare(byRef(y)))).toEqual([
        { type: "ack", room: "acks", ref: 1, seq: 1 },
        { type: "nack", room: "acks", ref: 2, reason: "dropped by the server" },
        { type: "nack", room: "elsewhere", ref: 4, reason: "not in this room" },
        { type: "nack", room: "acks", ref: 5, reason: "malformed frame" },
        { type: "ack", room: "acks", ref: 6, seq: 2 },
        { type: "nack", room: "acks", ref: "three", reason: "not here" },
      ]);
      expect(
        frames(a).filter((f) => f.type === "notice"),
        "no notices when a ref is given",
      ).toEqual([]);
      send(server, a.conn, { type: "publish", room: "acks", data: "x", ref: "r".repeat(65) });
      await until(() => frames(a).some((f) => f.type === "notice"), "a notice for a bad ref");
      expect(frames(a).find((f) => f.type === "notice")).toEqual({ type: "notice", text: "malformed frame" });
    });

    test("exactly once: a session's numbered publishes are stored once each, repeats (from any connection) acknowledged", async () => {
      const { rooms, server } = await roomsServer(kind, {
        onPublish: (_conn, _room, data) => {
          if (data === "refused") throw new Error("not this one");
          return data;
        },
      });
      const first = await server.connect();
      send(server, first.conn, { type: "join", room: "once" });
      await until(() => inRoom(first, "once").some((f) => f.type === "joined"), "joined");
      const publish = (peer: FakePeer, n: number, data = `m${n}`) =>
        send(server, peer.conn, { type: "publish", room: "once", data, ref: n, session: "S1" });
      const answers = (peer: FakePeer) => frames(peer).filter((f) => f.type === "ack" || f.type === "nack");
      for (const n of [1, 2, 3]) publish(first, n);
      publish(first, 4, "refused");
      publish(first, 5);
      publish(first, 7); // skips 6
      await until(() => answers(first).length === 6, "six answers");
      expect(answers(first)).toEqual([
        { type: "ack", room: "once", ref: 1, seq: 1 },
        { type: "ack", room: "once", ref: 2, seq: 2 },
        { type: "ack", room: "once", ref: 3, seq: 3 },
        { type: "nack", room: "once", ref: 4, reason: "not this one" },
        { type: "ack", room: "once", ref: 5, seq: 4 },
        {
          type: "nack",
          room: "once",
          ref: 7,
          reason: "out of order: message 7 of its session came before 6",
          retry: true,
        },
      ]);
      // The connection drops; the client resends what it has no ack for, on a new connection.
      server.peerClose(first.conn);
      const again = await server.connect();
      publish(again, 3); // before the rejoin: not in the room yet
      await until(() => answers(again).length === 1, "the early resend's answer");
      expect(answers(again)[0]).toEqual({
        type: "nack",
        room: "once",
        ref: 3,
        reason: "not in this room",
        retry: true,
      });
      const { epoch } = inRoom(first, "once").find((f) => f.type === "joined")!;
      send(server, again.conn, { type: "join", room: "once", epoch, seq: 4 });
      await until(() => inRoom(again, "once").some((f) => f.type === "joined"), "rejoined");
      for (const n of [3, 4, 5, 6]) publish(again, n);
      await until(() => answers(again).length === 5, "four more answers");
      expect(answers(again).slice(1)).toEqual([
        { type: "ack", room: "once", ref: 3, seq: 3 },
        { type: "ack", room: "once", ref: 4, seq: 0 }, // refused before: its number is used up
        { type: "ack", room: "once", ref: 5, seq: 4 },
        { type: "ack", room: "once", ref: 6, seq: 5 },
      ]);
      expect(rooms.get("once")!.history.map((entry) => entry.data)).toEqual(["m1", "m2", "m3", "m5", "m6"]);
    });

    test("requests: respond's value, its async value, its throw and a value that is not JSON come back by id", async () => {
      const { server } = await roomsServer(kind, {
        respond: async (conn, data) => {
          const { op } = data as { op: string };
          if (op === "whoami") return conn.id;
          if (op === "later") return await Promise.resolve({ done: true });
          if (op === "bigint") return { n: 1n } as never;
          if (op === "nothing") return undefined;
          throw new Error(`no such op: ${op}`);
        },
      });
      const a = await server.connect();
      const ops = ["whoami", "later", "bigint", "nothing", "fly"];
      for (const [i, op] of ops.entries()) send(server, a.conn, { type: "request", id: i, data: { op } });
      const responses = () => frames(a).filter((f) => f.type === "response");
      await until(() => responses().length === ops.length, "five responses");
      expect(responses().sort((x, y) => (x.id as number) - (y.id as number))).toEqual([
        { type: "response", id: 0, data: a.conn.id },
        { type: "response", id: 1, data: { done: true } },
        { type: "response", id: 2, error: "Do not know how to serialize a BigInt" },
        { type: "response", id: 3 },
        { type: "response", id: 4, error: "no such op: fly" },
      ]);
      const { server: bare } = await roomsServer(kind);
      const b = await bare.connect();
      send(bare, b.conn, { type: "request", id: "x", data: null });
      await until(() => frames(b).some((f) => f.type === "response"), "a response");
      expect(frames(b).find((f) => f.type === "response")).toEqual({
        type: "response",
        id: "x",
        error: "this server answers no requests",
      });
    });

    test("rooms open on the first member and are released when the last leaves; history stays in the store", async () => {
      const opened: string[] = [];
      const released: string[] = [];
      const memory = new MemoryRoomStore();
      const store: RoomStore = {
        open: (room, limits, listener: RoomListener) => {
          opened.push(room);
          return memory.open(room, limits, listener);
        },
        append: (room, data, change) => memory.append(room, data, change),
        release: (room) => {
          released.push(room);
          return memory.release(room);
        },
        close: () => memory.close(),
      };
      const { rooms, server } = await roomsServer(kind, { store });
      const a = await server.connect();
      send(server, a.conn, { type: "join", room: "lazy" });
      await until(() => rooms.get("lazy") !== undefined, "lazy open");
      send(server, a.conn, { type: "publish", room: "lazy", data: "kept" });
      await until(() => messages(a, "lazy").length === 1, "the message");
      server.peerClose(a.conn);
      await until(() => released.length === 1, "the release");
      expect(rooms.names).toEqual([]);
      const b = await server.connect();
      send(server, b.conn, { type: "join", room: "lazy" });
      await until(() => messages(b, "lazy").length === 1, "the kept history");
      expect(messages(b, "lazy")).toEqual([[1, "kept"]]);
      expect(opened).toEqual(["lazy", "lazy"]);
    });

    test("a connection gone while its join waited is not added, and the room is released", async () => {
      let letIn: (verdict: true) => void = () => undefined;
      const { rooms, server } = await roomsServer(kind, {
        canJoin: () => new Promise<true>((resolve) => (letIn = resolve)),
      });
      const a = await server.connect();
      send(server, a.conn, { type: "join", room: "wait" });
      server.peerClose(a.conn);
      letIn(true);
      await until(() => rooms.of(a.conn).length === 0, "no membership left");
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(rooms.get("wait")?.size ?? 0).toBe(0);
    });

    test("schema: a zod or valibot schema checks publishes before onPublish, which gets the typed output", async () => {
      const zodText = z.object({ text: z.string().max(5) });
      const valibotText = v.pipeAsync(
        v.object({ text: v.string() }),
        v.checkAsync(async (m) => m.text !== "no", "not that"),
      );
      for (const schema of [zodText, valibotText]) {
        const seen: string[] = [];
        const { server } = await roomsServer<{ text: string }>(kind, {
          schema,
          onPublish: (_conn, _room, message) => {
            seen.push(message.text); // typed: the schema's output
            return message.text.toUpperCase();
          },
        });
        const a = await server.connect();
        send(server, a.conn, { type: "join", room: "s" });
        await until(() => inRoom(a, "s").some((f) => f.type === "joined"), "joined");
        send(server, a.conn, { type: "publish", room: "s", data: { text: "hi" } });
        send(server, a.conn, { type: "publish", room: "s", data: { text: 5 }, ref: 1 });
        const refused = schema === zodText ? "too long" : "no";
        send(server, a.conn, { type: "publish", room: "s", data: { text: refused }, ref: 2 });
        send(server, a.conn, { type: "publish", room: "s", data: { text: "end" } });
        const answers = () => frames(a).filter((f) => f.type === "nack");
        await until(
          () => messages(a, "s").length === 2 && answers().length === 2,
          "two stored, two refused",
        ).catch((error: Error) => {
          throw new Error(`${error.message}: ${JSON.stringify(frames(a))}`);
        });
        expect(messages(a, "s").map(([, data]) => data)).toEqual(["HI", "END"]);
        expect(seen).toEqual(["hi", "end"]);
        const reasons = answers().map((f) => f.reason as string);
        expect(reasons[0]).toMatch(/^invalid message: at text: /);
        if (schema === zodText) expect(reasons[1]).toMatch(/^invalid message: at text: Too big/);
        else expect(reasons[1]).toBe("invalid message: not that");
      }
    });

    test("a join storm: each member gets the whole list once, then one small frame per change", async () => {
      const { server } = await roomsServer(kind);
      const peers: FakePeer[] = [];
      for (let i = 0; i < 40; i++) {
        const peer = await server.connect();
        peers.push(peer);
        send(server, peer.conn, { type: "join", room: "storm" });
      }
      await until(
        () => inRoom(peers[0]!, "storm").filter((f) => f.joined).length === 40,
        "40 joins seen by the first",
      );
      for (const [i, peer] of peers.entries()) {
        const presence = inRoom(peer, "storm").filter((f) => f.type === "presence");
        expect(presence.filter((f) => f.members).length, `member ${i}: one whole list`).toBe(1);
        expect((presence[0]!.members as unknown[]).length, `member ${i}: the list had those before it`).toBe(
          i,
        );
        expect(presence.length, `member ${i}: then one change per join from its own on`).toBe(1 + 40 - i);
      }
    });

    test("metrics: rooms open and members, as the observer counts them", async () => {
      const counts = { rooms: 0, members: 0 };
      const { rooms, server } = await roomsServer(kind, {
        metrics: {
          roomOpened: () => counts.rooms++,
          roomReleased: () => counts.rooms--,
          roomJoined: () => counts.members++,
          roomLeft: () => counts.members--,
        },
      });
      const a = await server.connect();
      const b = await server.connect();
      for (const room of ["m1", "m2"]) send(server, a.conn, { type: "join", room });
      send(server, b.conn, { type: "join", room: "m1" });
      await until(() => counts.members === 3, "three memberships");
      expect(counts).toEqual({ rooms: 2, members: 3 });
      server.peerClose(a.conn);
      await until(() => counts.rooms === 1, "m2 released");
      expect(counts).toEqual({ rooms: 1, members: 1 });
      await rooms.close();
      expect(counts).toEqual({ rooms: 0, members: 0 });
    });

    test("options are checked", () => {
      expect(() => new Rooms({ histryLimit: 1 } as RoomsOptions)).toThrow(
        "options.histryLimit is not an option (did you mean historyLimit?)",
      );
      expect(() => new Rooms({ maxAge: 0 })).toThrow(
        "options.maxAge must be a positive number of ms, got number 0",
      );
      expect(() => new Rooms({ presence: "nick" as never })).toThrow(
        'options.presence must be a function, got "nick"',
      );
      expect(() => new Rooms({ metrics: { roomOpen: () => undefined } as never })).toThrow(
        "options.metrics.roomOpen is not an option (did you mean roomOpened?)",
      );
      expect(() => new Rooms({ maxRoomsPerConnection: 0 })).toThrow(
        "options.maxRoomsPerConnection must be an integer >= 1, got number 0",
      );
    });
  });
}

describe("Rooms.publish from the server", () => {
  test("data that is not JSON, or nests too deeply, is a TypeError; nothing is stored", async () => {
    const rooms = new Rooms();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = "end";
    for (let i = 0; i < 65; i++) deep = [deep];
    await expect(rooms.publish("r", cyclic as never)).rejects.toThrow(TypeError);
    await expect(rooms.publish("r", { n: 10n } as never)).rejects.toThrow("data is not JSON-serialisable");
    await expect(rooms.publish("r", deep as never)).rejects.toThrow("data nests deeper than 64 levels");
    await expect(rooms.publish("", "x")).rejects.toThrow("room names are 1-200 characters");
    expect(await rooms.publish("r", "ok")).toBe(1);
  });
});

describe("MemoryRoomStore", () => {
  test("a released room with no history is forgotten; one with history is kept", async () => {
    const store = new MemoryRoomStore();
    const rooms = new Rooms({ store });
    const server = await FakeServer.start(
      {
        onConnect: (conn) => rooms.accept(conn),
        onMessage: (conn, raw) => void rooms.receive(conn, raw),
        onDisconnect: (conn) => rooms.drop(conn),
      },
      "copy",
    );
    const a = await server.connect();
    for (let i = 0; i < 50; i++) send(server, a.conn, { type: "join", room: `made-up-${i}` });
    send(server, a.conn, { type: "join", room: "kept" });
    await until(() => rooms.names.length === 51, "51 rooms open");
    await rooms.publish("kept", "history");
    server.peerClose(a.conn);
    await until(() => rooms.names.length === 0, "every room released");
    await until(() => store.size === 1, "only the room with history left in the store");
  });
});

describe("MemoryRoomStore and origins", () => {
  const listener: RoomListener = {
    message: () => undefined,
    presence: () => undefined,
    orphaned: () => undefined,
    restarted: () => undefined,
    revived: () => undefined,
  };
  const limits = { historyLimit: 10, maxAge: undefined };

  test("repeats resolve with the seq first given, per session and per room; a skipped number is out of order", async () => {
    const store = new MemoryRoomStore();
    await store.open("a", limits, listener);
    await store.open("b", limits, listener);
    expect(await store.append("a", "x", undefined, { session: "S", n: 1 })).toBe(1);
    expect(await store.append("a", "y", undefined, { session: "T", n: 1 })).toBe(2);
    expect(await store.append("b", "z", undefined, { session: "S", n: 1 })).toBe(1);
    expect(await store.append("a", "x again", undefined, { session: "S", n: 1 })).toBe(1);
    expect(await store.append("a", undefined, undefined, { session: "S", n: 2 })).toBe(0); // handled, not stored
    const skipped = store.append("a", "w", undefined, { session: "S", n: 9 });
    await expect(skipped).rejects.toMatchObject({ code: OUT_OF_ORDER, expected: 3 });
    expect((await store.open("a", limits, listener)).history.map((entry) => entry.data)).toEqual(["x", "y"]);
  });
});
