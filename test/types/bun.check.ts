/**
 * Typechecked with bun-types (tsconfig.bun.json): the adapter's structural
 * copies of Bun's API must fit the real `Bun.serve` and its sockets.
 */
import type { ServerWebSocket } from "bun";
import type { BunServeOptions, BunServer, BunSocket } from "../../src/adapters/bun/types.ts";

type Data = { request: unknown; conn?: unknown };

export const serve = (options: BunServeOptions<Data>): BunServer<Data> => Bun.serve<Data>(options);
export const socket = (ws: ServerWebSocket<Data>): BunSocket<Data> => ws;

// Mounting: the user's own Bun.serve takes polysocket's upgrade and websocket handlers.
import { Server } from "../../src/adapters/bun/index.ts";

const ws = new Server({ path: "/ws" });
export const mounted = (): unknown =>
  Bun.serve({
    port: 0,
    fetch: (req, server) =>
      new URL(req.url).pathname === ws.path ? ws.upgrade(req, server) : new Response("app"),
    websocket: ws.websocket,
  });
