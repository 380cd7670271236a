/**
 * `client.request(value, { timeout })`: RPC over the room connection, against
 * a real `Rooms` server (Node adapter, in this process) and its `respond`
 * handler, with a TCP proxy (test/harness/cut-proxy.ts) to drop the connection.
 */
import { afterEach, describe, expect, test } from "vitest";
import { type Client, connect, RequestError } from "../src/client/index.ts";
import type { JsonValue } from "../src/core/rooms/store.ts";
import { Rooms, type RoomsOptions, Server } from "../src/index.ts";
import { CutProxy } from "./harness/cut-proxy.ts";

const FAST = { minDelay: 5, maxDelay: 20, heartbeatInterval: 0 };
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A `Rooms` server with `respond` (or none) on a free port; resolves with its URL. */
async function roomsServer(respond?: RoomsOptions["respond"]): Promise<string> {
  const rooms = new Rooms({ respond });
  const server = new Server({
    hostname: "127.0.0.1",
    port: 0,
    heartbeat: false,
    onConnect: (conn) => rooms.accept(conn),
    onMessage: (conn, message) => void rooms.receive(conn, message),
    onDisconnect: (conn) => rooms.drop(conn),
  });
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return `ws://127.0.0.1:${port}/`;
}

function open(url: string, options = {}): Client {
  const client = connect(url, { ...FAST, ...options });
  cleanups.push(() => client.close());
  return client;
}

/** Resolves once `client` is welcomed `count` times in all. */
function welcomed(client: Client, count = 1): Promise<void> {
  let seen = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`expected ${count} welcomes, got ${seen}`)), 5000);
    client.on("welcome", () => {
      if (++seen < count) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

describe("client.request against a Rooms server's respond handler", () => {
  test("the handler's value, async value and nothing come back by id; its throw is a RequestError 'failed'", async () => {
    const url = await roomsServer(async (conn, data) => {
      const { op, n } = data as { op: string; n: number };
      if (op === "double") return n * 2;
      if (op === "later")
        return new Promise<JsonValue>((resolve) => setTimeout(() => resolve({ id: conn.id }), 20));
      if (op === "nothing") return undefined;
      throw new Error(`unknown op ${op}`);
    });
    const client = open(url);
    // Sent before the welcome: it waits for the connection.
    const early = client.request({ op: "double", n: 21 });
    await expect(early).resolves.toBe(42);
    const [later, nothing, bad] = [
      client.request({ op: "later", n: 0 }),
      client.request({ op: "nothing", n: 0 }),
      client.request({ op: "nope", n: 0 }),
    ];
    await expect(later).resolves.toEqual({ id: client.id });
    await expect(nothing).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow(new RequestError("failed", "unknown op nope"));
    await expect(bad).rejects.toMatchObject({ name: "RequestError", code: "failed" });
  });

  test("a server without respond answers every request with an error", async () => {
    const client = open(await roomsServer());
    await expect(client.request("hi")).rejects.toMatchObject({
      code: "failed",
      message: "this server answers no requests",
    });
  });

  test("no response within the timeout rejects at the deadline (bounded both ways); a late answer is ignored", async () => {
    let answer: (() => void) | undefined;
    const url = await roomsServer(
      () => new Promise<JsonValue>((resolve) => (answer = () => resolve("late"))),
    );
    const client = open(url);
    await welcomed(client);
    const started = Date.now();
    await expect(client.request("slow", { timeout: 200 })).rejects.toMatchObject({
      code: "timeout",
      message: "no response within 200 ms (the handler may have run)",
    });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    answer?.();
    expect(answer, "the handler ran").toBeDefined();
    // The late response is dropped; the next request gets its own answer.
    answer = undefined;
    const next = client.request("next", { timeout: 2000 });
    await until(() => answer !== undefined, "the second call of the handler");
    answer!();
    await expect(next).resolves.toBe("late");
  });

  test("a connection lost after sending rejects 'disconnected' (not resent); the next connection serves new requests", async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const url = await roomsServer((_conn, data) => {
      calls++;
      if (data !== "hang") return "ok";
      return new Promise<JsonValue>((resolve) => (release = () => resolve("too late")));
    });
    const proxy = await CutProxy.start(Number(new URL(url).port));
    cleanups.push(() => proxy.close());
    const client = open(`ws://127.0.0.1:${proxy.port}/`);
    const twice = welcomed(client, 2);
    await welcomed(client);
    const hanging = client.request("hang");
    await until(() => release !== undefined, "the handler to run");
    proxy.cut();
    await expect(hanging).rejects.toMatchObject({
      code: "disconnected",
      message: "the connection was lost before the response: the server may or may not have run the handler",
    });
    release!();
    await twice;
    await expect(client.request("again")).resolves.toBe("ok");
    expect(calls, "the lost request ran once and was not resent").toBe(2);
  });

  test("close() rejects what is open with 'closed'; bad arguments are TypeErrors", async () => {
    const url = await roomsServer(() => new Promise<JsonValue>(() => undefined));
    const client = open(url);
    await welcomed(client);
    const pending = client.request("forever");
    client.close();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
    await expect(client.request("after")).rejects.toMatchObject({
      code: "closed",
      message: "not sent: the client is closed",
    });
    const other = open(url);
    expect(() => other.request(undefined as never)).toThrow(
      new TypeError("request value must be a JSON value"),
    );
    expect(() => other.request({ at: new Date() } as never)).toThrow(TypeError);
    expect(() => other.request(1, { timeout: -1 })).toThrow(
      new TypeError("options.timeout must be a number > 0 (ms), got -1"),
    );
    expect(() => open(url, { resume: false }).request(1)).toThrow(
      new TypeError("cannot send a request with resume: false (requests speak the resumable protocol)"),
    );
  });
});

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
