/**
 * Node's compressed fan-out (src/adapters/node/shared-frames.ts): a message
 * published to sockets that negotiated permessage-deflate without server
 * context takeover is deflated and framed once, and `ws` allocates no deflate
 * stream of its own for them (the memory per connection a context would cost).
 * It runs the real Node adapter in this process, with real `ws` clients.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { WebSocket } from "ws";
import * as wsModule from "ws";
import { type Connection, Server } from "../src/adapters/node/index.ts";
import { SharedFrameTransport } from "../src/adapters/node/shared-frames.ts";
import { TestClient } from "./harness/client.ts";

const { Sender } = wsModule as unknown as { Sender: { frame: (...args: unknown[]) => unknown } };
const MESSAGE = JSON.stringify(Array.from({ length: 80 }, (_, i) => ({ id: i, text: "compress me" })));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server with compression whose five `ws` clients (offering it unless told not to) are subscribed to "room". */
async function fiveSubscribers(compression: ConstructorParameters<typeof Server>[0]) {
  const members: Connection[] = [];
  const server = new Server({
    hostname: "127.0.0.1",
    ...compression,
    onConnect(conn) {
      conn.subscribe("room");
      members.push(conn);
    },
  });
  cleanups.push(() => server.close({ timeout: 500 }));
  const { port } = await server.listen();
  const clients = await Promise.all(
    Array.from({ length: 5 }, () => TestClient.open(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true })),
  );
  cleanups.push(() => {
    for (const client of clients) client.socket.terminate();
  });
  while (members.length < 5) await new Promise((resolve) => setImmediate(resolve));
  return { server, clients };
}

/** `ws`'s own deflate stream of a server socket, if `ws` ever compressed for it (null: never). */
function ownDeflate(context: unknown): unknown {
  const ws = (context as SharedFrameTransport).ws as WebSocket & {
    _extensions: Record<string, { _deflate: unknown }>;
  };
  return ws._extensions["permessage-deflate"]?._deflate;
}

describe("Node compressed fan-out", () => {
  test("a message published to five compressing subscribers is deflated and framed once", async () => {
    expect(MESSAGE.length, "over the default threshold").toBeGreaterThan(1024);
    const { server, clients } = await fiveSubscribers({ compression: true });
    for (const client of clients) expect(client.socket.extensions).toBe("permessage-deflate");
    const frame = vi.spyOn(Sender, "frame");
    const send = vi.spyOn(SharedFrameTransport.prototype, "send");
    expect(server.publish("room", MESSAGE)).toBe(5);
    for (const client of clients) expect(await client.nextText()).toBe(MESSAGE);
    expect(frame, "Sender.frame calls for one publish to five").toHaveBeenCalledTimes(1);
    expect(frame.mock.calls[0]?.[1], "the one frame is compressed").toMatchObject({ rsv1: true });
    expect(send.mock.contexts.map(ownDeflate), "ws's own deflate streams").toEqual(new Array(5).fill(null));
  });

  test("with server context takeover, ws compresses for each socket (five frames, five deflate streams)", async () => {
    const { server, clients } = await fiveSubscribers({
      compression: { serverContextTakeover: true },
    });
    const frame = vi.spyOn(Sender, "frame");
    const send = vi.spyOn(SharedFrameTransport.prototype, "send");
    expect(server.publish("room", MESSAGE)).toBe(5);
    for (const client of clients) expect(await client.nextText()).toBe(MESSAGE);
    expect(frame, "Sender.frame calls for one publish to five").toHaveBeenCalledTimes(5);
    for (const transport of send.mock.contexts)
      expect(ownDeflate(transport), "ws's own deflate").toBeTruthy();
  });
});
