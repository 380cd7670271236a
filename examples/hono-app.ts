/**
 * The Hono app of the polysocket/hono examples, the same on every runtime:
 * a JSON route at / and a WebSocket echo on /ws behind Hono's `cors()` and
 * `jwt()` middleware. Only the start differs: examples/hono-node.ts
 * (`@hono/node-server`), hono-bun.ts (`Bun.serve`), hono-deno.ts (`Deno.serve`).
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { jwt } from "hono/jwt";
import type { ServerOptions } from "polysocket";
import { type HonoMountable, upgradeWebSocket } from "polysocket/hono";

/** The origin `cors()` allows (a browser page's). */
export const ALLOWED_ORIGIN = "https://app.example";

/** The WebSocket server's options: an echo on /ws, and `/whoami` answered with the connection. */
export const wsOptions: ServerOptions = {
  path: "/ws",
  onMessage(conn, message) {
    if (message === "/whoami") {
      return void conn.send(JSON.stringify({ id: conn.id, remoteAddress: conn.remoteAddress }));
    }
    conn.send(message);
  },
};

/** The app: `ws` serves its path, after `cors()` and `jwt()` let the request through. */
export function honoApp(ws: HonoMountable, runtime: string, secret: string): Hono {
  const app = new Hono();
  app.get("/", (c) => c.json({ app: "hono", runtime, websocket: ws.path }));
  // jwt() answers 401 without a valid `Authorization: Bearer` token (browsers cannot set one:
  // give jwt() a `cookie` name for them). The upgrade itself runs last, in upgradeWebSocket.
  app.use(ws.path, cors({ origin: ALLOWED_ORIGIN }), jwt({ secret, alg: "HS256" }));
  app.get(ws.path, upgradeWebSocket(ws));
  return app;
}

/** What the examples say when JWT_SECRET is missing: they refuse to start without one. */
export const MISSING_SECRET = "set JWT_SECRET (the HS256 secret the tokens are signed with)";
