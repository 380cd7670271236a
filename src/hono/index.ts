/**
 * polysocket in a Hono app: `upgradeWebSocket(server)` is the handler of the
 * upgrade route, after whatever middleware the route has (`cors()`, `jwt()`,
 * ...), on Bun (`Bun.serve({ fetch: app.fetch, websocket: server.websocket })`),
 * Deno (`Deno.serve(fetchWithUpgrades(app))`) and Node (`@hono/node-server`'s `serve()`,
 * plus `attachUpgrades(httpServer, app)`, which runs upgrade requests through
 * the app, so its middleware applies to them too). `server` is a `Server` of
 * the runtime's entry (`polysocket/bun`, `polysocket/deno`, `polysocket/node`)
 * whose `path` is the route's. Nothing here imports a runtime, nor Hono.
 *
 * @example
 * ```ts run=no
 * /// <reference lib="deno.ns" />
 * import { Hono } from "hono";
 * import { jwt } from "hono/jwt";
 * import { Server } from "polysocket/deno";
 * import { fetchWithUpgrades, upgradeWebSocket } from "polysocket/hono";
 * const ws = new Server({ path: "/ws", onMessage: (conn, message) => void conn.send(message) });
 * const app = new Hono();
 * app.get("/ws", jwt({ secret: "change-me", alg: "HS256" }), upgradeWebSocket(ws));
 * Deno.serve({ port: 8080 }, fetchWithUpgrades(app));
 * ```
 * @module
 */
import type { BunServer, Server as BunSocketServer } from "../adapters/bun/index.ts";
import type { DenoServeInfo, Server as DenoSocketServer } from "../adapters/deno/index.ts";
import type { Server as NodeSocketServer } from "../adapters/node/index.ts";
import { nodeRouteHandler } from "./node.ts";
import type { HonoContext, HonoUpgradeHandler } from "./types.ts";

export { attachUpgrades, type HonoApp, type NodeUpgradeBindings } from "./node.ts";
export type { HonoContext, HonoUpgradeHandler };

/** A polysocket server of one runtime's entry, mounted into the Hono app. */
export type HonoMountable = BunSocketServer | DenoSocketServer | NodeSocketServer;

/**
 * The Hono handler of `server`'s path: an upgrade that got past the route's
 * middleware becomes a connection (after `onUpgrade`, as on a server of its
 * own); a plain request gets the answer a server of its own would give
 * (`onRequest`, else 426). Put it last on the route, e.g.
 * `app.get("/ws", cors(), jwt({ secret }), upgradeWebSocket(ws))`.
 * Throws `TypeError` for anything but a `Server` of a runtime entry.
 */
export function upgradeWebSocket(server: HonoMountable): HonoUpgradeHandler {
  if (hasMethod(server, "handleUpgrade")) return nodeRouteHandler(server as NodeSocketServer);
  if (hasMethod(server, "upgrade")) return bunRouteHandler(server as BunSocketServer);
  if (hasMethod(server, "handler")) return denoRouteHandler(server as DenoSocketServer);
  throw new TypeError(
    "upgradeWebSocket(server): expected a Server from polysocket/bun, polysocket/deno or polysocket/node " +
      "(the runtime-picking `polysocket` entry cannot be mounted)",
  );
}

function hasMethod(value: unknown, name: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === "function"
  );
}

/** On Bun, `c.env` is the `Bun.serve` server (Hono's `fetch(request, server)`). */
function bunRouteHandler(server: BunSocketServer): HonoUpgradeHandler {
  return (c) => {
    const bun = c.env as BunServer<never> | undefined;
    if (!hasMethod(bun, "upgrade") || !hasMethod(bun, "requestIP")) {
      throw new TypeError(
        "polysocket/hono on Bun: c.env is not the Bun server; serve the app with " +
          "Bun.serve({ fetch: app.fetch, websocket: server.websocket })",
      );
    }
    const answer = server.upgrade(c.req.raw, bun as BunServer<never>);
    // Upgraded, Bun ignores what fetch returns; Hono wants a Response all the same.
    return answer instanceof Promise ? answer.then(orEmpty) : orEmpty(answer);
  };
}

const orEmpty = (response: Response | undefined): Response => response ?? new Response(null);

/** Deno's upgrade responses by request, for `fetchWithUpgrades` to hand back to `Deno.serve`. */
const denoUpgrades = new WeakMap<Request, Response>();

/** On Deno, `c.env` is `Deno.serve`'s info (Hono's `fetch(request, info)`). */
function denoRouteHandler(server: DenoSocketServer): HonoUpgradeHandler {
  return (c) => {
    const info = c.env as DenoServeInfo | undefined;
    if (typeof info?.remoteAddr !== "object" || info.remoteAddr === null) {
      throw new TypeError(
        "polysocket/hono on Deno: c.env is not Deno.serve's info; serve the app with Deno.serve(fetchWithUpgrades(app))",
      );
    }
    const answer = server.handler(c.req.raw, info);
    return answer instanceof Promise ? answer.then((r) => keep(c.req.raw, r)) : keep(c.req.raw, answer);
  };
}

function keep(request: Request, response: Response): Response {
  if (response.status === 101) denoUpgrades.set(request, response);
  return response;
}

/** What `fetchWithUpgrades` needs of a Hono app on Deno: its `fetch`. */
export interface HonoDenoApp {
  /** Answers a request. */
  fetch(request: Request, info: DenoServeInfo): Response | Promise<Response>;
}

/**
 * The app's `fetch` for `Deno.serve`, answering an upgrade with Deno's own
 * upgrade response. Deno 2.0 to 2.5 upgrade only with that very object, whose
 * headers are immutable, while Hono hands back a copy as soon as a middleware
 * such as `cors()` touched the headers ("Upgrade response was not returned from
 * callback"). Deno 2.6 and later take a copy and let headers change: there the
 * headers the app set are copied onto Deno's response, so this changes nothing.
 * Pass it to `Deno.serve` in place of `app.fetch` (the module example).
 */
export function fetchWithUpgrades(
  app: HonoDenoApp,
): (request: Request, info: DenoServeInfo) => Promise<Response> {
  return async (request, info) => {
    const answer = await app.fetch(request, info);
    const upgrade = denoUpgrades.get(request);
    if (!upgrade || answer === upgrade) return answer;
    denoUpgrades.delete(request);
    copyHeaders(answer, upgrade);
    return upgrade;
  };
}

/** The app's headers onto Deno's upgrade response, where Deno lets them change (2.6 and later). */
function copyHeaders(from: Response, to: Response): void {
  try {
    from.headers.forEach((value, name) => {
      if (!to.headers.has(name)) to.headers.set(name, value);
    });
  } catch {
    // Deno 2.0 to 2.5: immutable; the upgrade goes ahead with Deno's own headers.
  }
}
