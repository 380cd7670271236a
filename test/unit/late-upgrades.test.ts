/**
 * Regressions found by the unit layer: capacity and shutdown re-checked after an
 * async onUpgrade; exact descriptions of missing and mistyped option values.
 */
import { expect, test } from "vitest";
import { ChatRoom } from "../../src/core/chat-room.ts";
import { resolveOptions } from "../../src/core/options.ts";
import { drainMicrotasks, FakeServer } from "./fake-runtime.ts";

test("maxConnections holds with an async onUpgrade: a handshake that completes over it is closed with 1013", async () => {
  const connects: string[] = [];
  const server = await FakeServer.start({
    maxConnections: 1,
    onUpgrade: async () => undefined,
    onConnect: (conn) => void connects.push(conn.id),
  });
  const [first, second] = await Promise.all([server.connect(), server.connect()]);
  expect(server.connections.size).toBe(1);
  expect(first.transport.closedWith).toBeUndefined();
  expect(second.transport.closedWith).toEqual({ code: 1013, reason: "too many connections" });
  expect(connects).toEqual([first.conn.id]);
  await expect(server.connect(), "a later upgrade is refused at routing").rejects.toThrow(
    "upgrade refused: 503 Too many connections",
  );
});

test("an upgrade whose onUpgrade settles after close() began is refused", async () => {
  let release!: () => void;
  const events: string[] = [];
  const server = await FakeServer.start({
    onUpgrade: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    onConnect: () => void events.push("connect"),
  });
  const pending = server.connect();
  await drainMicrotasks();
  await server.close();
  release();
  await expect(pending).rejects.toThrow("upgrade refused: 503 Server shutting down");
  expect(events).toEqual([]);
});

test("a missing option value is described as undefined", () => {
  expect(() => resolveOptions({ rateLimit: { messages: 1 } as never })).toThrow(
    new TypeError("options.rateLimit.per must be an integer >= 1, got undefined"),
  );
});

test("ChatRoom's historyLimit error describes the value exactly, like the server's", () => {
  expect(() => new ChatRoom({ historyLimit: "5" as never })).toThrow(
    new TypeError('options.historyLimit must be a non-negative integer, got "5"'),
  );
  expect(() => new ChatRoom(null as never)).toThrow(new TypeError("options must be an object, got null"));
});

test("a server with tls cannot be mounted: its host does TLS, so the certificate would be ignored", async () => {
  const { Server } = await import("../../src/adapters/deno/index.ts");
  const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";
  const server = new Server({ path: "/ws", tls: { cert, key } });
  const request = new Request("http://127.0.0.1/ws");
  expect(() => server.handler(request, { remoteAddr: { hostname: "127.0.0.1" } })).toThrow(
    new TypeError(
      "options.tls applies to a server of its own (listen()); a mounted server's TLS is its host's",
    ),
  );
});
