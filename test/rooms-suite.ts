/**
 * The rooms suite: `Rooms` over real sockets in each runtime (the fixture's
 * "rooms" scenario), with raw `ws` clients so every frame on the wire is seen:
 * many rooms per connection, payload kinds, presence with the application's
 * info, resume per room after a reconnect, refusals and bad frames.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Fixture } from "./harness/fixture.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

type Frame = { type: string; room?: string; seq?: number; data?: unknown; [key: string]: unknown };

/** A raw client of the room frames. */
class RoomPeer {
  constructor(readonly client: TestClient) {}

  /** Every frame received so far (the non-JSON replies of the fixture skipped). */
  frames(): Frame[] {
    return this.client.messages
      .filter((m): m is string => typeof m === "string" && m.startsWith("{"))
      .map((m) => JSON.parse(m) as Frame);
  }

  messages(room: string): [number, unknown][] {
    return this.frames()
      .filter((f) => f.type === "message" && f.room === room)
      .map((f) => [f.seq!, f.data]);
  }

  /** Who is in `room` by the presence frames so far: the whole list once, then each change. */
  online(room: string): unknown[] {
    const members = new Map<string, unknown>();
    for (const f of this.frames()) {
      if (f.type !== "presence" || f.room !== room) continue;
      if (Array.isArray(f.members)) {
        members.clear();
        for (const m of f.members as { id: string; info: unknown }[]) members.set(m.id, m.info);
      }
      const joined = f.joined as { id: string; info: unknown } | undefined;
      if (joined) members.set(joined.id, joined.info);
      if (typeof f.left === "string") members.delete(f.left);
    }
    return [...members.values()];
  }

  send(frame: Frame): void {
    this.client.send(JSON.stringify(frame));
  }

  /** Waits for a frame matching `match`, described by `what`. */
  async frame(match: (frame: Frame) => boolean, what: string): Promise<Frame> {
    const seen = this.frames().find(match);
    if (seen) return seen;
    const text = await this.client.nextUntil((m) => m.startsWith("{") && match(JSON.parse(m)), what);
    return JSON.parse(text) as Frame;
  }

  async join(room: string, resume?: { epoch: string; seq: number }): Promise<Frame> {
    this.send({ type: "join", room, ...resume });
    return this.frame((f) => f.type === "joined" && f.room === room, `joined ${room}`);
  }

  /** Waits until `count` messages of `room` arrived. */
  async receive(room: string, count: number): Promise<[number, unknown][]> {
    await this.frame(() => this.messages(room).length >= count, `${count} messages in ${room}`);
    return this.messages(room);
  }
}

export function roomsSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] rooms`, () => {
    let fixture: Fixture;
    const clients: TestClient[] = [];
    const open = async (query = "") => {
      const client = await TestClient.open(`${fixture.url}${query}`);
      clients.push(client);
      const peer = new RoomPeer(client);
      await peer.frame((f) => f.type === "welcome", "the welcome");
      return peer;
    };
    const name = (what: string) => `${what}-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      fixture = await Fixture.start(runtime, "rooms", variant.env);
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await fixture?.stop();
    });

    test("one connection in two rooms: each message reaches its room's members only, named, in order", async () => {
      const [red, blue] = [name("red"), name("blue")];
      const a = await open();
      const b = await open();
      await a.join(red);
      await a.join(blue);
      await b.join(red);
      for (let i = 1; i <= 20; i++) b.send({ type: "publish", room: red, data: `r${i}` });
      a.send({ type: "publish", room: blue, data: { n: 1, list: [true, null] } });
      const reds = (await a.receive(red, 22)).filter(([, data]) => typeof data === "string");
      expect(reds.map(([, data]) => data)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i + 1}`));
      expect(await a.receive(blue, 2)).toContainEqual([2, { n: 1, list: [true, null] }]);
      await b.receive(red, 22);
      expect(
        b.frames().filter((f) => f.room === blue),
        "b is not in blue",
      ).toEqual([]);
    });

    test("bytes round trip exactly (base64 in the frames), 100 KB included", async () => {
      const room = name("bin");
      const a = await open();
      await a.join(room);
      const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
      a.send({ type: "publish", room, data: Buffer.from(bytes).toString("base64"), binary: true });
      const frame = await a.frame((f) => f.type === "message" && f.binary === true, "a binary message");
      expect(Buffer.from(frame.data as string, "base64").equals(Buffer.from(bytes)), "the same bytes").toBe(
        true,
      );
    });

    test("presence shows what the application chose (nicknames), and follows a member that leaves", async () => {
      const room = name("nicks");
      const ann = await open("?nick=ann");
      const bob = await open("?nick=bob");
      await ann.join(room);
      await bob.join(room);
      await ann.frame(() => ann.online(room).length === 2, "presence of ann and bob");
      expect(ann.online(room)).toEqual(["ann", "bob"]);
      await bob.frame(() => bob.online(room).length === 2, "bob's presence of both");
      expect(bob.online(room)).toEqual(["ann", "bob"]);
      await bob.client.close();
      await ann.frame(() => ann.online(room).length === 1, "presence without bob");
      expect(ann.online(room)).toEqual(["ann"]);
    });

    test("a reconnect rejoins each room from its own resume point: what was missed, once, nothing twice", async () => {
      const [one, two] = [name("one"), name("two")];
      const keeper = await open();
      await keeper.join(one);
      await keeper.join(two);
      const a = await open();
      const points: Record<string, { epoch: string; seq: number }> = {};
      for (const room of [one, two]) {
        const joined = await a.join(room);
        points[room] = { epoch: joined.epoch as string, seq: joined.seq as number };
      }
      keeper.send({ type: "publish", room: one, data: "before" });
      const seen = await a.receive(one, 3); // two joins (keeper's and a's), then "before"
      points[one] = { ...points[one]!, seq: seen.at(-1)![0] };
      await a.receive(two, 2);
      points[two] = { ...points[two]!, seq: a.messages(two).at(-1)![0] };
      await a.client.close();
      for (const text of ["missed 1", "missed 2"]) keeper.send({ type: "publish", room: one, data: text });
      keeper.send({ type: "publish", room: two, data: "missed in two" });
      await keeper.frame(
        () => keeper.messages(two).some(([, d]) => d === "missed in two"),
        "the last publish",
      );
      const back = await open();
      await back.join(one, points[one]);
      await back.join(two, points[two]);
      const texts = (room: string) => back.messages(room).filter(([, d]) => typeof d === "string");
      await back.frame(() => texts(one).length === 2 && texts(two).length === 1, "the missed messages");
      expect(texts(one).map(([, d]) => d)).toEqual(["missed 1", "missed 2"]);
      expect(texts(two).map(([, d]) => d)).toEqual(["missed in two"]);
      // Numbers go on after the resume points, without a repeat.
      expect(back.messages(one)[0]![0]).toBe(points[one]!.seq + 1);
      expect(back.messages(two)[0]![0]).toBe(points[two]!.seq + 1);
    });

    test("a refused join gets left with the reason; the connection and its other rooms carry on", async () => {
      const room = name("open");
      const a = await open();
      a.send({ type: "join", room: "private-x" });
      const left = await a.frame((f) => f.type === "left", "the refusal");
      expect(left).toEqual({ type: "left", room: "private-x", reason: "members only" });
      await a.join(room);
      a.send({ type: "publish", room, data: "still here" });
      expect((await a.receive(room, 2)).at(-1)).toEqual([2, "still here"]);
    });

    test("bad frames get a notice, plain text reaches the application, and nobody else is harmed", async () => {
      const room = name("calm");
      const a = await open();
      const b = await open();
      await b.join(room);
      for (const bad of [
        { type: "join", room: "x".repeat(10_000) },
        { type: "join" },
        { type: "publish", room, data: "!!", binary: true },
        { type: "publish", room: name("elsewhere"), data: 1 },
        { type: "leave", room: 5 },
      ]) {
        a.client.send(JSON.stringify(bad));
      }
      a.client.send("not a frame");
      await a.client.nextUntil((m) => m === "app: not a frame", "the application's echo");
      const notices = a.frames().filter((f) => f.type === "notice");
      expect(notices.map((f) => f.text)).toEqual([
        "malformed frame", // a room name of 10,000 characters
        "malformed frame", // a join without a room
        "not in this room", // bytes that are not base64, to a room it is not in: membership is checked first
        "not in this room",
        "malformed frame", // a room that is not a string
      ]);
      b.send({ type: "publish", room, data: "fine" });
      expect((await b.receive(room, 2)).at(-1)).toEqual([2, "fine"]);
    });

    test("a value nested 100,000 deep is refused with a notice (it could not be sent back), the room goes on", async () => {
      const room = name("deep");
      const a = await open();
      await a.join(room);
      const depth = 100_000;
      a.client.send(`{"type":"publish","room":"${room}","data":${"[".repeat(depth)}${"]".repeat(depth)}}`);
      const notice = await a.frame((f) => f.type === "notice", "the refusal");
      expect(notice).toEqual({ type: "notice", room, text: "malformed frame: nested deeper than 64 levels" });
      a.send({ type: "publish", room, data: [[["fine"]]] });
      expect((await a.receive(room, 2)).at(-1)).toEqual([2, [[["fine"]]]]);
    });

    test("the server publishes to a room: its members get it with the next number", async () => {
      const room = name("server");
      const a = await open();
      await a.join(room);
      a.client.send(`/room-publish ${room} from the server`);
      await a.client.nextUntil((m) => m === "published 2", "the sequence number");
      expect((await a.receive(room, 2)).at(-1)).toEqual([2, "from the server"]);
    });
  });
}
