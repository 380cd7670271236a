/**
 * Bun adapter: `Bun.serve` with its native websocket handlers, and broadcast
 * through Bun's native publish. It only translates; behaviour lives in the core engine.
 * @see https://bun.sh/docs/api/websockets
 */
import type { Adapter, Engine, Listener, Transport, UpgradeRequest } from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { headerRecord, wantsWebSocket } from "../../core/headers.ts";
import { pathAndQuery } from "../../core/url.ts";
import type { BunGlobal, BunServer, BunSocket } from "./types.ts";

/** The Bun binding of polysocket. */
export const bunAdapter: Adapter = { runtime: "bun", listen };

/** Every socket subscribes to this topic, so one native publish reaches all. */
const EVERYONE = "polysocket:all";

interface SocketData {
  request: UpgradeRequest;
  conn?: Connection;
}

interface BunTransport extends Transport {
  readonly ws: BunSocket<SocketData>;
}

async function listen(engine: Engine): Promise<Listener> {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const server = bun.serve<SocketData>({
    port: engine.port,
    hostname: engine.hostname,
    fetch(req, server) {
      const request = toRequest(req, server);
      const decision = engine.route(request);
      if (!decision.upgrade) {
        return new Response(decision.body, { status: decision.status, headers: decision.headers });
      }
      if (server.upgrade(req, { data: { request } })) return undefined;
      return new Response("Bad WebSocket handshake", { status: 400 });
    },
    websocket: {
      open(ws) {
        ws.subscribe(EVERYONE);
        ws.data.conn = engine.open(transport(ws), ws.data.request);
      },
      message(ws, message) {
        engine.message(
          ws.data.conn as Connection,
          typeof message === "string" ? message : plainBytes(message),
        );
      },
      close(ws, code, reason) {
        engine.closed(ws.data.conn as Connection, code, reason);
      },
      idleTimeout: 0, // no idle or ping policy of Bun's own: the core decides
      sendPings: false,
      publishToSelf: false,
    },
  });
  return {
    port: server.port ?? engine.port,
    publish(data, except) {
      if (except) (except as BunTransport).ws.publish(EVERYONE, data);
      else server.publish(EVERYONE, data);
      return true;
    },
    stop: () => server.stop(true),
  };
}

function transport(ws: BunSocket<SocketData>): BunTransport {
  return new SocketTransport(ws);
}

/** A class, not an object of closures: one small object per connection (idle memory counts). */
class SocketTransport implements BunTransport {
  readonly ws: BunSocket<SocketData>;
  constructor(ws: BunSocket<SocketData>) {
    this.ws = ws;
  }
  get readyState(): number {
    return this.ws.readyState;
  }
  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
  send(data: string | Uint8Array): void {
    this.ws.send(data);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  terminate(): void {
    this.ws.terminate();
  }
}

function toRequest(req: Request, server: BunServer<SocketData>): UpgradeRequest {
  const headers = headerRecord(req.headers.entries());
  return {
    method: req.method,
    url: pathAndQuery(req.url),
    headers,
    upgrade: wantsWebSocket(req.method, headers),
    remoteAddress: server.requestIP(req)?.address ?? "",
  };
}

/** Bun hands binary messages over as Buffer; users get a plain Uint8Array view everywhere. */
function plainBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
