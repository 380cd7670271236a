/**
 * Node's fan-out fast path (src/adapters/node/shared-frames.ts) reads private
 * fields of `ws`. A `ws` release that moves them would silently send every
 * message through `ws`'s own path (correct, ~18x slower fan-out): these tests
 * fail instead. They run the real Node adapter in this process.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import * as wsModule from "ws";
import { WebSocket, WebSocketServer } from "ws";
import { type Connection, Server } from "../src/adapters/node/index.ts";
import { sharesFrames } from "../src/adapters/node/shared-frames.ts";
import { TestClient } from "./harness/client.ts";

const { Sender } = wsModule as unknown as { Sender: { frame: (...args: unknown[]) => unknown } };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("Node fast path", () => {
  test("the installed ws exposes the socket and sender state the fast path reads", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
    await new Promise((resolve) => wss.once("listening", resolve));
    const { port } = wss.address() as { port: number };
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const opened = new Promise((resolve, reject) => {
      client.once("open", resolve);
      client.once("error", reject);
    });
    cleanups.push(() => client.terminate());
    expect(sharesFrames(await accepted), "ws's _socket and _sender as the fast path expects").toBe(true);
    await opened; // terminating a client still connecting would throw from ws
  });

  test("a message published to five subscribers is framed once, not once per subscriber", async () => {
    const members: Connection[] = [];
    const server = new Server({
      hostname: "127.0.0.1",
      onConnect(conn) {
        conn.subscribe("room");
        members.push(conn);
      },
    });
    cleanups.push(() => server.close({ timeout: 500 }));
    const { port } = await server.listen();
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => TestClient.open(`ws://127.0.0.1:${port}/`)),
    );
    cleanups.push(() => {
      for (const client of clients) client.socket.terminate();
    });
    while (members.length < 5) await new Promise((resolve) => setImmediate(resolve));
    const frame = vi.spyOn(Sender, "frame");
    expect(server.publish("room", "once for all")).toBe(5);
    expect(frame, "Sender.frame calls for one publish to five").toHaveBeenCalledTimes(1);
    for (const client of clients) expect(await client.nextText()).toBe("once for all");
  });
});
