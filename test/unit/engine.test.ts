/**
 * The engine on the fake binding: hook order, an async onConnect holding the
 * messages that arrive meanwhile, onDisconnect once with the right CloseInfo,
 * hook failures routed to onError, and the timers (heartbeat, idle, drain, shutdown).
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import { WebSocketError } from "../../src/core/errors.ts";
import type { CloseInfo, ServerOptions } from "../../src/core/options.ts";
import { drainMicrotasks, FakeServer, until } from "./fake-runtime.ts";

/** A server whose hooks log what happens, in order. */
async function logged(options: ServerOptions = {}) {
  const events: string[] = [];
  const closes: CloseInfo[] = [];
  const errors: Array<{ error: Error; conn?: Connection }> = [];
  const server = await FakeServer.start({
    onConnect: () => void events.push("connect"),
    onMessage: (_conn, message) => void events.push(`message ${message}`),
    onDisconnect: (_conn, info) => {
      events.push(`disconnect ${info.code}`);
      closes.push(info);
    },
    onError: (error, conn) => void errors.push({ error, conn }),
    ...options,
  });
  return { server, events, closes, errors };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("engine: hooks", () => {
  test("onConnect, then each onMessage in order, then onDisconnect", async () => {
    const { server, events } = await logged();
    const { conn } = await server.connect();
    server.receive(conn, "a");
    server.receive(conn, "b");
    server.peerClose(conn, 1000, "bye");
    await until(() => events.length === 4, "four hook calls");
    expect(events).toEqual(["connect", "message a", "message b", "disconnect 1000"]);
    expect(server.connections.size).toBe(0);
    expect(conn.state).toBe("closed");
  });

  test("an async onConnect holds messages (and the disconnect) until it settles", async () => {
    let finish!: () => void;
    const { server, events } = await logged({
      onConnect: () => {
        events.push("connect started");
        return new Promise<void>((resolve) => {
          finish = () => {
            events.push("connect done");
            resolve();
          };
        });
      },
    });
    const { conn } = await server.connect();
    server.receive(conn, "early 1");
    server.receive(conn, "early 2");
    server.peerClose(conn, 1001);
    await drainMicrotasks();
    expect(events).toEqual(["connect started"]);
    finish();
    await until(() => events.length === 5, "the held messages and the disconnect");
    expect(events).toEqual([
      "connect started",
      "connect done",
      "message early 1",
      "message early 2",
      "disconnect 1001",
    ]);
  });

  test("onDisconnect runs once when the runtime reports the close twice", async () => {
    const { server, closes } = await logged();
    const { conn } = await server.connect();
    server.peerClose(conn, 1000, "first");
    server.engine.closed(conn, 1006, "second");
    await until(() => closes.length === 1, "one onDisconnect");
    await drainMicrotasks();
    expect(closes).toEqual([{ code: 1000, reason: "first", closeFrame: true }]);
  });

  test("CloseInfo: the server's own close wins over the peer's echo", async () => {
    const { server, closes } = await logged();
    const { conn, transport } = await server.connect();
    transport.echoClose = false;
    conn.close(4001, "go away");
    expect(transport.closedWith).toEqual({ code: 4001, reason: "go away" });
    expect(conn.state).toBe("closing");
    server.peerClose(conn, 1005, ""); // Deno reports a bare echo as 1005
    await until(() => closes.length === 1, "onDisconnect");
    expect(closes).toEqual([{ code: 4001, reason: "go away", closeFrame: true }]);
  });

  test("CloseInfo: a peer that vanished (code 0, as Deno reports it) is 1006", async () => {
    const { server, closes } = await logged();
    const { conn } = await server.connect();
    server.peerClose(conn, 0, "");
    await until(() => closes.length === 1, "onDisconnect");
    expect(closes).toEqual([{ code: 1006, reason: "", closeFrame: false }]);
  });

  test("terminate drops the socket and onDisconnect reports 1006 at once", async () => {
    const { server, closes } = await logged();
    const { conn, transport } = await server.connect();
    conn.terminate();
    expect(transport.terminated).toBe(true);
    expect(transport.closedWith).toBeUndefined();
    await until(() => closes.length === 1, "onDisconnect");
    expect(closes).toEqual([{ code: 1006, reason: "", closeFrame: false }]);
  });

  test("close() with a bad code or a long reason throws TypeError, and closes nothing", async () => {
    const { server } = await logged();
    const { conn, transport } = await server.connect();
    expect(() => conn.close(1006)).toThrow(
      new TypeError("close code must be 1000-1003, 1007-1014 or 3000-4999, got 1006"),
    );
    expect(() => conn.close(1000, "x".repeat(124))).toThrow(
      new TypeError("close reason must be at most 123 UTF-8 bytes, got 124"),
    );
    expect(transport.closedWith).toBeUndefined();
    expect(conn.state).toBe("open");
  });

  test("send on a closing or closed connection returns false and sends nothing", async () => {
    const { server, closes } = await logged();
    const { conn, transport } = await server.connect();
    expect(conn.send("before")).toBe(true);
    conn.close();
    expect(conn.send("while closing")).toBe(false);
    await until(() => closes.length === 1, "onDisconnect");
    expect(conn.send("after")).toBe(false);
    expect(transport.messages).toEqual(["before"]);
  });

  test("a throwing or rejecting hook goes to onError as ERR_HOOK with its connection; the next hooks still run", async () => {
    const { server, events, errors } = await logged({
      onConnect: () => {
        events.push("connect");
        throw new Error("connect broke");
      },
      onMessage: async (_conn, message) => {
        events.push(`message ${message}`);
        throw new Error("message broke");
      },
      onDisconnect: () => {
        events.push("disconnect");
        throw "not even an Error";
      },
    });
    const { conn } = await server.connect();
    server.receive(conn, "m");
    server.peerClose(conn);
    await until(() => errors.length === 3, "three reported hook failures");
    expect(events).toEqual(["connect", "message m", "disconnect"]);
    for (const { error, conn: reported } of errors) {
      expect(error).toBeInstanceOf(WebSocketError);
      expect((error as WebSocketError).code).toBe("ERR_HOOK");
      expect(reported).toBe(conn);
    }
    expect(errors.map(({ error }) => error.message).sort()).toEqual([
      "onConnect failed: connect broke",
      "onDisconnect failed: not even an Error",
      "onMessage failed: message broke",
    ]);
  });

  test("without onError (or when it throws) failures are printed, never thrown into the runtime", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const server = await FakeServer.start({
      onMessage: () => {
        throw new Error("boom");
      },
    });
    const { conn } = await server.connect();
    expect(() => server.receive(conn, "x")).not.toThrow();
    expect(printed).toHaveBeenCalledTimes(1);
    expect(String(printed.mock.calls[0]?.[1])).toContain("onMessage failed: boom");

    const throwing = await FakeServer.start({
      onMessage: () => {
        throw new Error("boom");
      },
      onError: () => {
        throw new Error("onError too");
      },
    });
    const other = await throwing.connect();
    throwing.receive(other.conn, "x");
    expect(printed.mock.calls.map((call) => String(call[0]))).toContain("[polysocket] onError threw:");
  });

  test("a socket error is ERR_SOCKET; a protocol error closes with its status; a reset is not an error", async () => {
    const { server, errors, closes } = await logged();
    const { conn } = await server.connect();
    server.engine.error(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), conn);
    expect(errors).toEqual([]);
    server.engine.error(new Error("something odd"), conn);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatchObject({ code: "ERR_SOCKET", message: "socket error: something odd" });
    server.engine.error(new Error("Received invalid UTF-8"), conn); // Bun's reason
    server.peerClose(conn, 1006);
    await until(() => closes.length === 1, "onDisconnect");
    expect(closes[0]).toMatchObject({
      code: 1007,
      closeFrame: true,
      error: { code: "ERR_INVALID_DATA", status: 1007 },
    });
  });

  test("a protocol error the runtime drops the connection on (Deno) ends with its code and closeFrame false", async () => {
    const { server, errors, closes } = await logged();
    const { conn } = await server.connect();
    server.engine.error(new Error("Ping frame too large"), conn);
    server.peerClose(conn, 0); // Deno's close event of a dropped connection
    await until(() => closes.length === 1, "onDisconnect");
    expect(errors).toEqual([]);
    expect(closes[0]).toMatchObject({ code: 1002, closeFrame: false, error: { code: "ERR_PROTOCOL" } });
  });
});

describe("engine: timers", () => {
  test("heartbeat: a ping each interval; no pong within the timeout drops the peer with 1006", async () => {
    vi.useFakeTimers();
    const { server, closes } = await logged({ heartbeat: { interval: 100, timeout: 50 } });
    const { conn, transport } = await server.connect();
    await vi.advanceTimersByTimeAsync(100);
    expect(transport.pings).toBe(1);
    server.engine.pong(conn);
    await vi.advanceTimersByTimeAsync(100);
    expect(transport.pings).toBe(2);
    await vi.advanceTimersByTimeAsync(49);
    expect(closes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.terminated).toBe(true);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ code: 1006, error: { code: "ERR_HEARTBEAT_TIMEOUT" } });
    await server.close();
  });

  test("heartbeat: any message counts as alive", async () => {
    vi.useFakeTimers();
    const { server, closes } = await logged({ heartbeat: { interval: 100, timeout: 50 } });
    const { conn, transport } = await server.connect();
    await vi.advanceTimersByTimeAsync(100);
    server.receive(conn, "still here");
    await vi.advanceTimersByTimeAsync(60);
    expect(closes).toEqual([]);
    expect(transport.terminated).toBe(false);
  });

  test("idleTimeout: closes with 1000 'idle timeout' after that long without a message, a message restarts it", async () => {
    vi.useFakeTimers();
    const { server, closes } = await logged({ idleTimeout: 100, heartbeat: false });
    const { conn, transport } = await server.connect();
    await vi.advanceTimersByTimeAsync(80);
    server.receive(conn, "x");
    await vi.advanceTimersByTimeAsync(99);
    expect(transport.closedWith).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.closedWith).toEqual({ code: 1000, reason: "idle timeout" });
    await vi.advanceTimersByTimeAsync(0);
    expect(closes[0]).toMatchObject({
      code: 1000,
      reason: "idle timeout",
      error: { code: "ERR_IDLE_TIMEOUT" },
    });
  });

  test("onDrain: once a connection past half the limit has written everything", async () => {
    vi.useFakeTimers();
    const drained: Connection[] = [];
    const server = await FakeServer.start({
      backpressure: { limit: 1000 },
      onDrain: (conn) => void drained.push(conn),
    });
    const { conn, transport } = await server.connect();
    conn.send("x".repeat(100));
    transport.bufferedAmount = 600;
    conn.send("y".repeat(100));
    await vi.advanceTimersByTimeAsync(100);
    expect(drained).toEqual([]);
    transport.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(20);
    expect(drained).toEqual([conn]);
    await vi.advanceTimersByTimeAsync(100);
    expect(drained).toHaveLength(1);
  });

  test("close(): 1001 to everyone, every onDisconnect done when it resolves, then the binding stops", async () => {
    const { server, closes } = await logged();
    const a = await server.connect();
    const b = await server.connect();
    await server.close();
    expect(a.transport.closedWith).toEqual({ code: 1001, reason: "server shutting down" });
    expect(b.transport.closedWith).toEqual({ code: 1001, reason: "server shutting down" });
    expect(closes).toEqual([
      { code: 1001, reason: "server shutting down", closeFrame: true },
      { code: 1001, reason: "server shutting down", closeFrame: true },
    ]);
    expect(server.adapter.stopped).toBe(true);
    await expect(server.listen()).rejects.toMatchObject({ code: "ERR_SERVER_STATE" });
  });

  test("close(): a peer that never answers is dropped after the timeout", async () => {
    vi.useFakeTimers();
    const { server, closes } = await logged();
    const { transport } = await server.connect();
    transport.echoClose = false;
    let done = false;
    void server.close({ timeout: 500 }).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    expect(transport.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.terminated).toBe(true);
    expect(done).toBe(true);
    expect(closes).toEqual([{ code: 1001, reason: "server shutting down", closeFrame: true }]);
  });
});
