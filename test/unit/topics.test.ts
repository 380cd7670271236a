/**
 * Topics and broadcast on both fan-out paths of the core: per-member sends of a
 * message prepared once ("copy", as on Node and Deno) and one native publish
 * ("native", as on Bun). Per-recipient rules (order, backpressure) are the same as `send`'s.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import type { CloseInfo, ServerOptions } from "../../src/core/options.ts";
import { type FakePeer, FakeServer, until, WIRES, type WireKind } from "./fake-runtime.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** A server on `kind`, and `count` connections subscribed to `topic`. */
async function subscribed(kind: WireKind, topic: string, count: number, options: ServerOptions = {}) {
  const server = await FakeServer.start(options, kind);
  const peers: FakePeer[] = [];
  for (let i = 0; i < count; i++) {
    const peer = await server.connect();
    peer.conn.subscribe(topic);
    peers.push(peer);
  }
  return { server, peers };
}

const bytes = (size: number, fill: number) => new Uint8Array(size).fill(fill);

/** "N bytes of V" for a uniform byte message: compares 1 MiB fast, unlike a deep equal, and reads well when it fails. */
function shape(message: unknown): string {
  if (!(message instanceof Uint8Array)) return `not bytes: ${typeof message}`;
  const first = message[0];
  return message.every((byte) => byte === first) ? `${message.length} bytes of ${first}` : "mixed bytes";
}

for (const kind of WIRES) {
  describe(`topics [${kind} wire]`, () => {
    test("subscribe, isSubscribed, topics, unsubscribe, subscribers", async () => {
      const server = await FakeServer.start({}, kind);
      const { conn } = await server.connect();
      conn.subscribe("a");
      conn.subscribe("b");
      conn.subscribe("a"); // twice is once
      expect([...conn.topics]).toEqual(["a", "b"]);
      expect(conn.isSubscribed("a")).toBe(true);
      expect(server.subscribers("a")).toBe(1);
      conn.unsubscribe("a");
      conn.unsubscribe("never"); // not subscribed: nothing happens
      expect(conn.isSubscribed("a")).toBe(false);
      expect([...conn.topics]).toEqual(["b"]);
      expect(server.subscribers("a")).toBe(0);
      expect(server.publish("a", "to nobody")).toBe(0);
      if (kind === "native") {
        expect(server.native.members("t:a")).toEqual([]);
        expect(server.native.members("t:b")).toHaveLength(1);
      }
    });

    test("a topic that is not a non-empty string is a TypeError everywhere", async () => {
      const server = await FakeServer.start({}, kind);
      const { conn } = await server.connect();
      const bad = new TypeError('topic must be a non-empty string, got ""');
      expect(() => conn.subscribe("")).toThrow(bad);
      expect(() => conn.unsubscribe("")).toThrow(bad);
      expect(() => conn.publish("", "x")).toThrow(bad);
      expect(() => server.publish("", "x")).toThrow(bad);
      expect(() => server.subscribers(7 as unknown as string)).toThrow(
        new TypeError("topic must be a non-empty string, got number 7"),
      );
    });

    test("publish reaches every subscriber and nobody else, and returns the count", async () => {
      const { server, peers } = await subscribed(kind, "news", 3);
      const outsider = await server.connect();
      expect(server.publish("news", "hello")).toBe(3);
      for (const { transport } of peers) expect(transport.messages).toEqual(["hello"]);
      expect(outsider.transport.messages).toEqual([]);
      expect(server.publish("news", bytes(3, 7))).toBe(3);
      for (const { transport } of peers) expect(transport.messages[1]).toEqual(bytes(3, 7));
    });

    test("except: one connection, several, or one that is not subscribed", async () => {
      const { server, peers } = await subscribed(kind, "room", 4);
      const [a, b, c, d] = peers as [FakePeer, FakePeer, FakePeer, FakePeer];
      const outsider = await server.connect();
      expect(server.publish("room", "not a", { except: a.conn })).toBe(3);
      expect(server.publish("room", "not b, c", { except: [b.conn, c.conn] })).toBe(2);
      expect(server.publish("room", "all", { except: outsider.conn })).toBe(4);
      expect(server.publish("room", "not d", { except: new Set([d.conn]) })).toBe(3);
      expect(a.transport.messages).toEqual(["not b, c", "all", "not d"]);
      expect(b.transport.messages).toEqual(["not a", "all", "not d"]);
      expect(c.transport.messages).toEqual(["not a", "all", "not d"]);
      expect(d.transport.messages).toEqual(["not a", "not b, c", "all"]);
      expect(() => server.publish("room", "x", { except: 5 as unknown as Connection })).toThrow(
        new TypeError("options.except must be a Connection or an iterable of them"),
      );
    });

    test("conn.publish skips the sender, subscribed or not", async () => {
      const { server, peers } = await subscribed(kind, "chat", 3);
      const [sender, ...others] = peers as [FakePeer, FakePeer, FakePeer];
      expect(sender.conn.publish("chat", "from sender")).toBe(2);
      expect(sender.transport.messages).toEqual([]);
      for (const { transport } of others) expect(transport.messages).toEqual(["from sender"]);
      const outsider = await server.connect();
      expect(outsider.conn.publish("chat", "from outside")).toBe(3);
    });

    test("a closed connection leaves every topic by itself", async () => {
      const closes: CloseInfo[] = [];
      const { server, peers } = await subscribed(kind, "x", 2, {
        onDisconnect: (_conn, info) => void closes.push(info),
      });
      const [gone, stays] = peers as [FakePeer, FakePeer];
      gone.conn.subscribe("y");
      server.peerClose(gone.conn, 1000);
      await until(() => closes.length === 1, "onDisconnect");
      expect([...gone.conn.topics]).toEqual([]);
      expect(gone.conn.isSubscribed("x")).toBe(false);
      expect(server.subscribers("x")).toBe(1);
      expect(server.subscribers("y")).toBe(0);
      expect(server.publish("x", "after")).toBe(1);
      expect(stays.transport.messages).toEqual(["after"]);
      expect(gone.transport.messages).toEqual([]);
      gone.conn.subscribe("z"); // closed: does nothing
      expect(server.subscribers("z")).toBe(0);
    });

    test("a closing connection cannot subscribe", async () => {
      const server = await FakeServer.start({}, kind);
      const { conn, transport } = await server.connect();
      transport.echoClose = false;
      conn.close();
      conn.subscribe("late");
      expect(conn.isSubscribed("late")).toBe(false);
      expect(server.subscribers("late")).toBe(0);
    });

    test("direct sends and published messages keep their order per connection", async () => {
      const { server, peers } = await subscribed(kind, "t", 2);
      const [a, b] = peers as [FakePeer, FakePeer];
      a.conn.send("1");
      server.publish("t", "2");
      a.conn.send("3");
      b.conn.publish("t", "4");
      server.broadcast("5");
      a.conn.send("6");
      expect(a.transport.messages).toEqual(["1", "2", "3", "4", "5", "6"]);
      expect(b.transport.messages).toEqual(["2", "5"]);
    });

    for (const [label, size] of [
      ["4 B", 4],
      ["20 KB", 20_000],
      ["1 MiB", 1024 * 1024],
    ] as const) {
      test(`a reused ${label} buffer: each publish delivers its own bytes`, async () => {
        const { server, peers } = await subscribed(kind, "buf", 3);
        const buffer = bytes(size, 1);
        expect(server.publish("buf", buffer)).toBe(3);
        buffer.fill(2);
        expect(server.publish("buf", buffer)).toBe(3);
        buffer.fill(3);
        for (const { transport } of peers) {
          expect(transport.messages).toHaveLength(2);
          expect(transport.messages.map(shape)).toEqual([`${size} bytes of 1`, `${size} bytes of 2`]);
        }
        if (kind === "copy")
          expect(server.adapter.wire.prepared).toHaveLength(2); // once per publish, not per member
        else expect(server.native.publishes).toHaveLength(2);
      });
    }

    test("a reused buffer with direct sends: the client gets the bytes as they were at send", async () => {
      const server = await FakeServer.start({}, kind);
      const { conn, transport } = await server.connect();
      const buffer = bytes(16, 1);
      conn.send(buffer);
      buffer.fill(2);
      conn.send(buffer);
      buffer.fill(3);
      expect(transport.messages).toEqual([bytes(16, 1), bytes(16, 2)]);
    });

    test("broadcast reaches every open connection but except, and returns the count", async () => {
      const server = await FakeServer.start({}, kind);
      const [a, b, c] = [await server.connect(), await server.connect(), await server.connect()];
      expect(server.broadcast("all")).toBe(3);
      expect(server.broadcast("not a", { except: a.conn })).toBe(2);
      expect(server.broadcast("only c", { except: [a.conn, b.conn] })).toBe(1);
      expect(a.transport.messages).toEqual(["all"]);
      expect(b.transport.messages).toEqual(["all", "not a"]);
      expect(c.transport.messages).toEqual(["all", "not a", "only c"]);
    });
  });
}

describe("topics: per-member rules on the copying wire (Node, Deno)", () => {
  test('backpressure "drop": a slow subscriber misses published messages, counted; the others get them', async () => {
    const { server, peers } = await subscribed("copy", "feed", 3, {
      backpressure: { limit: 100, policy: "drop" },
    });
    const [slow, ...fast] = peers as [FakePeer, FakePeer, FakePeer];
    slow.transport.bufferedAmount = 95;
    expect(server.publish("feed", "0123456789")).toBe(2);
    expect(server.broadcast("0123456789")).toBe(2);
    expect(slow.conn.droppedMessages).toBe(2);
    expect(slow.transport.messages).toEqual([]);
    expect(slow.conn.state).toBe("open");
    for (const { transport, conn } of fast) {
      expect(transport.messages).toEqual(["0123456789", "0123456789"]);
      expect(conn.droppedMessages).toBe(0);
    }
    slow.transport.bufferedAmount = 0;
    expect(server.publish("feed", "again")).toBe(3);
    expect(slow.transport.messages).toEqual(["again"]);
  });

  test('backpressure "close": a slow subscriber is closed with 1013, dropped after a 1 s grace; the others get everything', async () => {
    vi.useFakeTimers();
    const closes: CloseInfo[] = [];
    const { server, peers } = await subscribed("copy", "feed", 2, {
      backpressure: { limit: 100, policy: "close" },
      onDisconnect: (_conn, info) => void closes.push(info),
    });
    const [slow, fast] = peers as [FakePeer, FakePeer];
    slow.transport.bufferedAmount = 95;
    slow.transport.echoClose = false; // a reader this slow does not answer the close either
    expect(server.publish("feed", "0123456789")).toBe(1);
    expect(slow.transport.closedWith).toEqual({ code: 1013, reason: "over 100 bytes buffered" });
    expect(server.publish("feed", "more")).toBe(1);
    expect(fast.transport.messages).toEqual(["0123456789", "more"]);
    await vi.advanceTimersByTimeAsync(999);
    expect(slow.transport.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(slow.transport.terminated).toBe(true);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({
      code: 1013,
      reason: "over 100 bytes buffered",
      error: { code: "ERR_BACKPRESSURE" },
    });
  });
});

describe("topics: the native path (Bun)", () => {
  test("one native publish per message, with the sender as except; membership mirrored natively", async () => {
    const { server, peers } = await subscribed("native", "n", 3);
    const [a] = peers as [FakePeer, FakePeer, FakePeer];
    expect(server.native.members("t:n")).toHaveLength(3);
    expect(server.native.members("*")).toHaveLength(3);
    expect(a.conn.publish("n", "hi")).toBe(2);
    expect(server.native.publishes).toEqual([{ group: "t:n", message: "hi", except: a.transport }]);
    expect(server.adapter.wire.prepared).toEqual([]); // the runtime frames a native publish itself
    const outsider = await server.connect();
    expect(server.publish("n", "x", { except: outsider.conn })).toBe(3);
    expect(server.native.publishes[1]).toEqual({ group: "t:n", message: "x", except: undefined });
  });

  test("several excepted: they leave the native topic for one publish and join again", async () => {
    const { server, peers } = await subscribed("native", "n", 4);
    const [a, b, c, d] = peers as [FakePeer, FakePeer, FakePeer, FakePeer];
    expect(server.publish("n", "some", { except: [a.conn, b.conn] })).toBe(2);
    expect(server.native.publishes).toHaveLength(1);
    for (const peer of [a, b]) expect(peer.transport.messages).toEqual([]);
    for (const peer of [c, d]) expect(peer.transport.messages).toEqual(["some"]);
    expect(server.native.members("t:n")).toHaveLength(4);
    expect(server.publish("n", "all")).toBe(4);
    expect(a.transport.messages).toEqual(["all"]);
  });

  test("unsubscribe leaves the native topic", async () => {
    const { server, peers } = await subscribed("native", "n", 2);
    const [a, b] = peers as [FakePeer, FakePeer];
    a.conn.unsubscribe("n");
    expect(server.native.members("t:n")).toEqual([b.transport]);
    expect(server.publish("n", "only b")).toBe(1);
    expect(a.transport.messages).toEqual([]);
    expect(b.transport.messages).toEqual(["only b"]);
  });
});
