/**
 * polysocket/hono on Node (`@hono/node-server`). A `node:http` server hands
 * upgrade requests to its `upgrade` event, never to the request listener that
 * `serve()` installs, so Hono would never see them: `attachUpgrades` runs each
 * one through the app's `fetch` (with its middleware) and leaves the socket to
 * the route's `upgradeWebSocket` handler, as `@hono/node-server`'s own
 * `websocket` option does for `ws`. Only types are imported from Node here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Server as NodeSocketServer, UpgradeHost } from "../adapters/node/index.ts";
import type { HonoUpgradeHandler } from "./types.ts";

/**
 * `c.env` of an upgrade request run through the app by `attachUpgrades`: the
 * request, and no response (as `@hono/node-server` passes for its own upgrades).
 */
export interface NodeUpgradeBindings {
  /** The upgrade request. */
  readonly incoming: IncomingMessage;
  /** None: an upgrade has no `ServerResponse`. */
  readonly outgoing: undefined;
}

/** What `attachUpgrades` needs of a Hono app: its `fetch` (any Hono 4 app fits). */
export interface HonoApp {
  /** Answers a request. */
  fetch(request: Request, env: NodeUpgradeBindings): Response | Promise<Response>;
}

/** An upgrade on its way through the app: the socket, until a route handler takes it. */
interface PendingUpgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
  taken: boolean;
}

/** Keyed by the request that `c.env.incoming` carries to the route handler. */
const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

/**
 * Runs every upgrade request of `host` (what `@hono/node-server`'s `serve()`
 * returns, or any `node:http`/`node:https` server) through `app`, so that its
 * middleware applies: a route ending in `upgradeWebSocket(server)` takes the
 * socket; any other answer (e.g. `jwt()`'s 401, Hono's 404) is written to the
 * client, headers and body, and the socket closed. The app answers every
 * upgrade of `host`: do not combine with `server.attach(host)` or
 * `@hono/node-server`'s `websocket` option on the same host.
 *
 * @example
 * ```ts run=no
 * import { serve } from "@hono/node-server";
 * import { Hono } from "hono";
 * import { attachUpgrades, upgradeWebSocket } from "polysocket/hono";
 * import { Server } from "polysocket/node";
 * const ws = new Server({ path: "/ws", onMessage: (conn, message) => void conn.send(message) });
 * const app = new Hono().get("/ws", upgradeWebSocket(ws));
 * attachUpgrades(serve({ fetch: app.fetch, port: 8080 }), app);
 * ```
 */
export function attachUpgrades(host: UpgradeHost, app: HonoApp): void {
  host.on("upgrade", (req, socket, head) => void upgradeThroughApp(app, req, socket, head));
}

async function upgradeThroughApp(app: HonoApp, req: IncomingMessage, socket: Duplex, head: Buffer) {
  // node:http leaves an upgraded socket's errors to us: a client gone mid-way must not crash the process.
  socket.on("error", ignore);
  const upgrade: PendingUpgrade = { socket, head, taken: false };
  pending.set(req, upgrade);
  let response: Response;
  try {
    response = await app.fetch(toFetchRequest(req), { incoming: req, outgoing: undefined });
  } catch (error) {
    // Only a request that cannot be one (a bad Host or header) gets here: Hono answers its own errors.
    response = new Response(`Bad Request: ${(error as Error).message}`, { status: 400 });
  } finally {
    pending.delete(req);
  }
  if (!upgrade.taken && !socket.destroyed) await refuse(socket, response);
}

function ignore(): void {}

/** The upgrade request as a fetch `Request`, for Hono; its body is empty. */
function toFetchRequest(req: IncomingMessage): Request {
  const target = req.url ?? "/";
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  // Origin-form ("/ws?x"), else absolute-form; "//x" stays a path.
  const url = target.startsWith("/") ? `${scheme}://${req.headers.host ?? "localhost"}${target}` : target;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of typeof value === "string" ? [value] : (value ?? [])) headers.append(name, one);
  }
  return new Request(new URL(url), { method: req.method, headers });
}

/** Headers of Hono's answer that are the connection's, not the answer's. */
const HOP_BY_HOP = new Set(["connection", "content-length", "keep-alive", "transfer-encoding", "upgrade"]);

/** Writes the app's answer to an upgrade it did not take, then closes the socket. */
async function refuse(socket: Duplex, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const { STATUS_CODES } = await import("node:http");
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== "set-cookie") lines.push(`${name}: ${value}`);
  });
  for (const cookie of response.headers.getSetCookie()) lines.push(`set-cookie: ${cookie}`);
  lines.push("connection: close", `content-length: ${body.byteLength}`, "", "");
  if (socket.destroyed) return;
  socket.once("finish", () => socket.destroy());
  socket.write(lines.join("\r\n"));
  socket.end(body);
}

/** A marker `@hono/node-server` knows: the response was written to `outgoing` already. */
const alreadySent = (): Response => new Response(null, { headers: { "x-hono-already-sent": "true" } });

/**
 * On Node, `c.env` is `@hono/node-server`'s bindings: an upgrade that
 * `attachUpgrades` ran through the app goes to `server.handleUpgrade`; a plain
 * request to `server.handleRequest`, which writes the answer itself.
 */
export function nodeRouteHandler(server: NodeSocketServer): HonoUpgradeHandler {
  return (c) => {
    const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    const incoming = env?.incoming;
    const upgrade = incoming && pending.get(incoming);
    if (incoming && upgrade && !upgrade.taken) {
      upgrade.taken = server.handleUpgrade(incoming, upgrade.socket, upgrade.head);
      // Not this server's path: the 404 a server of its own gives on another path.
      return upgrade.taken ? new Response(null) : new Response("Not Found", { status: 404 });
    }
    if (incoming && env?.outgoing) {
      server.handleRequest(incoming, env.outgoing);
      return alreadySent();
    }
    throw new TypeError(
      "polysocket/hono on Node: c.env is not @hono/node-server's bindings, or an upgrade did not come " +
        "through attachUpgrades(httpServer, app)",
    );
  };
}
