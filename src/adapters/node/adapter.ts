/**
 * Node.js adapter: `node:http` for the port, the `ws` package for WebSockets.
 * It only translates; behaviour lives in the core engine.
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md
 */
import { createServer, type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type {
  Adapter,
  Engine,
  EngineLimits,
  Listener,
  RouteDecision,
  UpgradeRequest,
} from "../../core/adapter.ts";
import { whenRouted } from "../../core/adapter.ts";
import { LazyUpgradeRequest } from "../../core/headers.ts";
import { toFetchRequest, writeResponse } from "./fetch.ts";
import { nodeWire, SharedFrameTransport } from "./shared-frames.ts";
import { closeAfterHandshake } from "./teardown.ts";

/** The Node.js binding of polysocket, over `ws`. */
export const nodeAdapter: Adapter = { runtime: "node", listen };

async function listen(engine: Engine): Promise<Listener> {
  const { limits } = engine;
  engine.attach(nodeWire); // no native groups: the core sends each member the frame built once
  const protocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayload,
    perMessageDeflate: false,
    clientTracking: false, // the engine keeps the connections; a Set and a listener per socket less
    handleProtocols: (_offered, req) => protocols.get(req) ?? false,
  });
  const http = createServer(httpLimits(limits), (req, res) => {
    const request = toRequest(req, false);
    const decision = engine.route(request) as RouteDecision; // sync: only upgrades run onUpgrade
    if (decision.upgrade) return; // unreachable: plain requests never upgrade
    void engine.respond(toFetchRequest(req), request, decision).then(
      (response) => writeResponse(response, res),
      (error: unknown) => engine.error(error),
    );
  });
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
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
  });
  await bindPort(http, limits.port, limits.hostname);
  http.on("error", (error) => engine.error(error));
  return { port: (http.address() as AddressInfo).port, stop: () => stop(http, wss) };
}

/**
 * A connection that has not sent its request headers within the handshake timeout
 * gets 408 and is closed (node:http tracks it from accept, so also one that never sends a byte).
 */
function httpLimits(limits: EngineLimits) {
  const timeout = limits.handshakeTimeout;
  return {
    headersTimeout: timeout,
    requestTimeout: timeout,
    connectionsCheckingInterval: Math.min(timeout, 1000),
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

/** `upgrade` false: node:http handed the request over as plain HTTP. */
function toRequest(req: IncomingMessage, upgrade: boolean): LazyUpgradeRequest {
  const address = req.socket.remoteAddress ?? "";
  return new LazyUpgradeRequest(req.method ?? "GET", req.url ?? "/", req.headers, address, upgrade);
}

/** Answers a refused upgrade with plain HTTP on the raw socket, then closes it. */
function refuse(socket: Duplex, decision: Extract<RouteDecision, { upgrade: false }>): void {
  const lines = [`HTTP/1.1 ${decision.status} ${STATUS_CODES[decision.status] ?? ""}`];
  const headers = { ...decision.headers, connection: "close", "content-type": "text/plain" };
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${Buffer.byteLength(decision.body)}`, "", decision.body);
  socket.once("finish", () => socket.destroy());
  socket.end(lines.join("\r\n"));
}

function bindPort(http: Server, port: number, hostname: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, hostname, () => {
      http.off("error", reject);
      resolve();
    });
  });
}

/** Every connection was closed or dropped by the server's shutdown before this runs. */
function stop(http: Server, wss: WebSocketServer): Promise<void> {
  wss.close();
  http.closeAllConnections();
  return new Promise((resolve) => http.close(() => resolve()));
}
