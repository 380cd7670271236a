/**
 * Bun adapter: `Bun.serve` with its native websocket handlers, and broadcast
 * through Bun's native publish. It only translates; behaviour lives in the core engine.
 * @see https://bun.sh/docs/api/websockets
 */
import type {
  Adapter,
  Engine,
  Listener,
  RouteDecision,
  Transport,
  UpgradeRequest,
} from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { requestFromFetch } from "../../core/headers.ts";
import type { BunGlobal, BunSocket } from "./types.ts";

/** The Bun binding of polysocket. */
export const bunAdapter: Adapter = { runtime: "bun", listen };

/** Every socket subscribes to this topic, so one native publish reaches all. */
const EVERYONE = "polysocket:all";

interface SocketData {
  request: UpgradeRequest;
  accepted: RouteDecision;
  conn?: Connection;
}

interface BunTransport extends Transport {
  readonly ws: BunSocket<SocketData>;
}

async function listen(engine: Engine): Promise<Listener> {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const { limits } = engine;
  const server = bun.serve<SocketData>({
    port: limits.port,
    hostname: limits.hostname,
    idleTimeout: Math.min(255, Math.ceil(limits.handshakeTimeout / 1000)),
    async fetch(req, server) {
      const request = requestFromFetch(req, server.requestIP(req)?.address ?? "");
      const decision = await engine.route(request);
      if (!decision.upgrade) return engine.respond(req, request, decision);
      const headers = decision.protocol ? { "sec-websocket-protocol": decision.protocol } : undefined;
      if (server.upgrade(req, { data: { request, accepted: decision }, headers })) return undefined;
      return new Response("Bad WebSocket handshake", { status: 400 });
    },
    websocket: {
      open(ws) {
        ws.subscribe(EVERYONE);
        ws.data.conn = engine.open(transport(ws), ws.data.request, ws.data.accepted);
      },
      message(ws, message) {
        const data = typeof message === "string" ? message : plainBytes(message);
        engine.message(ws.data.conn as Connection, data);
      },
      pong(ws) {
        engine.pong(ws.data.conn as Connection);
      },
      close(ws, code, reason) {
        // Bun runs this synchronously when onConnect itself closes the socket,
        // before `open` above has stored the connection: catch up a microtask later.
        const end = (conn: Connection) => {
          // Bun reports its own protocol-error closes as 1006 with the error as reason.
          if (code === 1006 && reason) engine.error(new Error(reason), conn);
          engine.closed(conn, code, reason);
        };
        if (ws.data.conn) end(ws.data.conn);
        else queueMicrotask(() => end(ws.data.conn as Connection));
      },
      // No idle or ping policy of Bun's own: the core's heartbeat decides.
      idleTimeout: 0,
      sendPings: false,
      publishToSelf: false,
      maxPayloadLength: limits.maxPayload,
      // Native publish bypasses per-connection sends: Bun applies the same limit to it.
      backpressureLimit: limits.backpressure.limit,
      closeOnBackpressureLimit: limits.backpressure.policy === "close",
    },
  });
  return {
    port: server.port ?? limits.port,
    publish(data, except) {
      if (except) (except as BunTransport).ws.publish(EVERYONE, data);
      else server.publish(EVERYONE, data);
      return true;
    },
    stop: () => server.stop(true),
  };
}

function transport(ws: BunSocket<SocketData>): BunTransport {
  return {
    ws,
    get readyState() {
      return ws.readyState;
    },
    get bufferedAmount() {
      return ws.getBufferedAmount();
    },
    send: (data) => void ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    ping: () => void ws.ping(),
  };
}

/** Bun hands binary messages over as Buffer; users get a plain Uint8Array view everywhere. */
function plainBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
