/**
 * Deno adapter: `Deno.serve` for the port, `Deno.upgradeWebSocket` for sockets.
 * It only translates; behaviour lives in the core engine.
 * @see https://docs.deno.com/api/deno/~/Deno.upgradeWebSocket
 */
import type {
  Adapter,
  Engine,
  EngineLimits,
  Listener,
  RouteDecision,
  Transport,
  UpgradeRequest,
} from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { requestFromFetch } from "../../core/headers.ts";
import type { DenoGlobal, DenoSocket } from "./types.ts";

/** The Deno binding of polysocket. */
export const denoAdapter: Adapter = { runtime: "deno", listen };

/** The reason Deno gives when its own ping got no pong. */
const NO_PONG = /no response from ping/i;

async function listen(engine: Engine): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  const { limits } = engine;
  const options = { port: limits.port, hostname: limits.hostname, onListen() {} };
  const server = deno.serve(options, async (req, info) => {
    const request = requestFromFetch(req, info.remoteAddr.hostname ?? "");
    const decision = await engine.route(request);
    if (!decision.upgrade) return engine.respond(req, request, decision);
    const { socket, response } = deno.upgradeWebSocket(req, { idleTimeout: pingSeconds(limits) });
    // Deno's own `protocol` option splits the offer on ", " only and rejects "a,b";
    // the core already checked the choice against the offer, so set the header directly.
    if (decision.protocol) response.headers.set("sec-websocket-protocol", decision.protocol);
    bind(engine, socket, request, decision);
    return response;
  });
  return { port: server.addr.port ?? limits.port, stop: () => server.shutdown() };
}

/**
 * Deno has no ping API, but pings by itself: every `idleTimeout / 2` seconds,
 * dropping a peer silent for `idleTimeout`. The closest match to interval + timeout.
 */
function pingSeconds({ heartbeat }: EngineLimits): number {
  return heartbeat ? Math.max(1, Math.ceil((heartbeat.interval + heartbeat.timeout) / 1000)) : 0;
}

function bind(engine: Engine, socket: DenoSocket, request: UpgradeRequest, accepted: RouteDecision): void {
  socket.binaryType = "arraybuffer";
  let conn: Connection | undefined;
  socket.onopen = () => {
    conn = engine.open(transport(socket), request, accepted);
  };
  socket.onmessage = (event) => {
    const { data } = event;
    if (conn) engine.message(conn, typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  };
  socket.onclose = (event) => {
    if (!conn) return;
    if (event.code === 1001 && NO_PONG.test(event.reason)) engine.heartbeatFailed(conn);
    engine.closed(conn, event.code, event.reason);
  };
  socket.onerror = (event) => {
    const { message = "" } = event as ErrorEvent;
    if (!NO_PONG.test(message)) engine.error(new Error(message), conn);
  };
}

function transport(socket: DenoSocket): Transport {
  return {
    get readyState() {
      return socket.readyState;
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    // Deno cannot drop a socket without a handshake; a close frame is the closest.
    terminate: () => socket.close(1001, "terminated"),
  };
}
