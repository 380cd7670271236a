/**
 * Node.js adapter: `node:http` for the port, the `ws` package for WebSockets.
 * It only translates; behaviour lives in the core engine.
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md
 */
import { createServer, type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Adapter, Engine, Listener, RouteDecision, UpgradeRequest } from "../../core/adapter.ts";
import { headerRecord, wantsWebSocket } from "../../core/headers.ts";
import { SharedFrameWebSocket } from "./shared-frames.ts";

/** The Node.js binding of polysocket, over `ws`. */
export const nodeAdapter: Adapter = { runtime: "node", listen };

async function listen(engine: Engine): Promise<Listener> {
  // Broadcasts frame each message once (see shared-frames.ts).
  const wss = new WebSocketServer({ noServer: true, WebSocket: SharedFrameWebSocket });
  const http = createServer((req, res) => {
    const decision = engine.route(toRequest(req, false));
    if (decision.upgrade) return; // unreachable: plain requests never upgrade
    res.writeHead(decision.status, { "content-type": "text/plain", ...decision.headers });
    res.end(decision.body);
  });
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const request = toRequest(req, true);
    const decision = engine.route(request);
    if (!decision.upgrade) return refuse(socket, decision);
    wss.handleUpgrade(req, socket, head, (ws) => bind(engine, ws, request));
  });
  await bindPort(http, engine.port, engine.hostname);
  http.on("error", (error) => engine.error(error));
  return { port: (http.address() as AddressInfo).port, stop: () => stop(http, wss) };
}

function bind(engine: Engine, ws: WebSocket, request: UpgradeRequest): void {
  const conn = engine.open(ws, request); // ws's WebSocket already fits Transport
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    engine.message(
      conn,
      isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString(),
    );
  });
  ws.on("close", (code: number, reason: Buffer) => engine.closed(conn, code, reason.toString()));
  ws.on("error", (error: Error) => engine.error(error, conn));
}

function toRequest(req: IncomingMessage, upgrade: boolean): UpgradeRequest {
  const headers = headerRecord(Object.entries(req.headers));
  return {
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers,
    upgrade: upgrade && wantsWebSocket(req.method ?? "", headers),
    remoteAddress: req.socket.remoteAddress ?? "",
  };
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

function stop(http: Server, wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  http.closeAllConnections();
  return new Promise((resolve) => http.close(() => resolve()));
}
