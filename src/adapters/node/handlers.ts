/**
 * The Node binding's handlers: an `upgrade` and a `request` handler for any
 * `node:http` or `node:https` server, with the `ws` package for WebSockets.
 * `listen` (adapter.ts) puts them on a server of polysocket's own; a mounted
 * polysocket server hands them to the user's. They only translate: behaviour
 * lives in the core engine.
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type PerMessageDeflateOptions, type WebSocket, WebSocketServer } from "ws";
import type { Engine, EngineLimits, RouteDecision, UpgradeRequest } from "../../core/adapter.ts";
import { whenRouted } from "../../core/adapter.ts";
import { LazyUpgradeRequest } from "../../core/headers.ts";
import { toFetchRequest, writeResponse } from "./fetch.ts";
import { nodeWire, SharedFrameTransport } from "./shared-frames.ts";
import { closeAfterHandshake } from "./teardown.ts";

/** What a `node:http` server needs from one polysocket server. */
export interface NodeHandlers {
  /**
   * Takes an upgrade request (the `upgrade` event's arguments) if it is for this
   * server's path, and returns true; returns false and leaves the socket alone otherwise.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Answers a plain HTTP request: `onRequest`, else 426 on the path, 404 elsewhere. */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Stops `ws`'s server; the engine has closed or dropped every socket before. */
  close(): void;
}

/** The handlers of one polysocket server, reporting to `engine`. */
export function nodeHandlers(engine: Engine): NodeHandlers {
  engine.attach(nodeWire(engine.limits)); // no native groups: the core sends each member the frame built once
  const protocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: engine.limits.maxPayload,
    maxFragments: fragmentCap(engine.limits.maxPayload),
    perMessageDeflate: perMessageDeflate(engine.limits),
    clientTracking: false, // the engine keeps the connections; a Set and a listener per socket less
    handleProtocols: (_offered, req) => protocols.get(req) ?? false,
  });
  return {
    upgrade(req, socket, head) {
      if (!engine.owns(req.url ?? "/")) return false;
      const request = toRequest(req, true);
      void whenRouted(engine.route(request), (decided) => {
        if (socket.destroyed) return;
        if (!decided.upgrade) return refuse(socket, decided);
        if (decided.protocol) protocols.set(req, decided.protocol);
        wss.handleUpgrade(req, socket, head, (ws) => {
          closeAfterHandshake(ws, socket);
          bind(engine, ws, request, decided);
        });
      });
      return true;
    },
    request(req, res) {
      const request = toRequest(req, false);
      const decision = engine.route(request) as RouteDecision; // sync: only upgrades run onUpgrade
      if (decision.upgrade) return; // unreachable: plain requests never upgrade
      void engine.respond(toFetchRequest(req), request, decision).then(
        (response) => writeResponse(response, res),
        (error: unknown) => engine.error(error),
      );
    },
    close: () => wss.close(),
  };
}

function bind(engine: Engine, ws: WebSocket, request: UpgradeRequest, accepted: RouteDecision): void {
  // The transport writes frames built once per message (see shared-frames.ts).
  const conn = engine.open(new SharedFrameTransport(ws), request, accepted);
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    const message = isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString();
    engine.message(conn, message);
  });
  ws.on("pong", () => engine.pong(conn));
  ws.on("close", (code: number, reason: Buffer) => engine.closed(conn, code, reason.toString()));
  ws.on("error", (error: Error) => engine.error(error, conn));
}

/**
 * The `compression` option as `ws`'s: `ws` negotiates, inflates (its `maxPayload`
 * counts the inflated bytes: 1009 past it) and compresses what the shared frames cannot.
 */
function perMessageDeflate({ compression }: EngineLimits): PerMessageDeflateOptions | false {
  if (!compression) return false;
  return {
    threshold: compression.threshold,
    concurrencyLimit: compression.concurrency,
    serverNoContextTakeover: !compression.serverContextTakeover,
    clientNoContextTakeover: !compression.clientContextTakeover,
  };
}

/**
 * `ws` keeps each fragment of a message as a Buffer of its own until the last one
 * (~100 B of heap each; measured: 1 MiB in 1-byte fragments, uncapped, +100 MB heap
 * and +155 MB RSS), so it caps them: 16,384 by default. Bun and Deno append
 * fragments to one buffer and have no cap. Raised with `maxPayload` so that
 * fragments of 64 bytes or more always fit, as they do on Bun and Deno, while the
 * bookkeeping stays under 2 × `maxPayload`.
 */
function fragmentCap(maxPayload: number): number {
  return Math.max(16_384, Math.ceil(maxPayload / 64));
}

/** `upgrade` false: node:http handed the request over as plain HTTP. */
function toRequest(req: IncomingMessage, upgrade: boolean): LazyUpgradeRequest {
  const address = req.socket.remoteAddress ?? "";
  return new LazyUpgradeRequest(req.method ?? "GET", req.url ?? "/", req.headers, address, upgrade);
}

/** Answers a refused upgrade with plain HTTP on the raw socket, then closes it. */
export function refuse(socket: Duplex, decision: Extract<RouteDecision, { upgrade: false }>): void {
  const lines = [`HTTP/1.1 ${decision.status} ${STATUS_CODES[decision.status] ?? ""}`];
  const headers = { ...decision.headers, connection: "close", "content-type": "text/plain" };
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${Buffer.byteLength(decision.body)}`, "", decision.body);
  socket.once("finish", () => socket.destroy());
  socket.end(lines.join("\r\n"));
}
