/**
 * Bun adapter: `Bun.serve` with its native websocket handlers; the core's groups
 * (topics, broadcast, rooms) are Bun's native topics. It only translates; behaviour lives in the core engine.
 * @see https://bun.sh/docs/api/websockets
 */
import type {
  Adapter,
  Engine,
  Listener,
  NativeGroups,
  PendingOpen,
  RouteDecision,
  Transport,
  UpgradeRequest,
} from "../../core/adapter.ts";
import { whenRouted } from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { requestFromFetch } from "../../core/headers.ts";
import type { BunGlobal, BunServer, BunSocket } from "./types.ts";

/** The Bun binding of polysocket. */
export const bunAdapter: Adapter = { runtime: "bun", listen };

async function listen(engine: Engine): Promise<Listener> {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const { limits } = engine;
  const groups = new BunGroups();
  // Bun's send and publish copy the bytes before they return: messages go as they are.
  engine.attach({ prepare: (message) => message, groups });
  const server = bun.serve<BunTransport>({
    port: limits.port,
    hostname: limits.hostname,
    // Bun.serve has no header-read timeout. A connection whose first request never finishes its
    // headers (or that never sends a byte) is closed by Bun's own fixed 10 s, swept every 4 s
    // (8-12 s after connecting), whatever is set here (bun PR #33061: "Bun.serve sockets keep the
    // legacy 10s pre-request timeout"). What `handshakeTimeout` can reach is Bun's idle timeout,
    // which applies once a request has arrived: a later request that stalls on a kept-alive
    // connection, a kept-alive connection left silent, a pending onUpgrade. Whole seconds, max 255,
    // on the same 4 s sweep (README: runtime differences).
    idleTimeout: Math.min(255, Math.ceil(limits.handshakeTimeout / 1000)),
    fetch(req, server) {
      const request = requestFromFetch(req, server.requestIP(req)?.address ?? "");
      return whenRouted(engine.route(request), (decided) => {
        if (!decided.upgrade) return engine.respond(req, request, decided);
        const headers = decided.protocol ? { "sec-websocket-protocol": decided.protocol } : undefined;
        if (server.upgrade(req, { data: new BunTransport(request, decided), headers })) return undefined;
        return new Response("Bad WebSocket handshake", { status: 400 });
      });
    },
    websocket: {
      open(ws) {
        ws.data.opened(engine, ws);
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
  groups.server = server;
  return { port: server.port ?? limits.port, stop: () => server.stop(true) };
}

/** Bun's topics of one server, as the core's groups. */
class BunGroups implements NativeGroups {
  /** Set once `Bun.serve` returns, before any socket exists. */
  server: BunServer<BunTransport> | undefined;

  join(transport: Transport, group: string): void {
    (transport as BunTransport).ws.subscribe(group);
  }

  leave(transport: Transport, group: string): void {
    (transport as BunTransport).ws.unsubscribe(group);
  }

  /** `ws.publish` reaches every subscriber but that socket. */
  publish(group: string, message: string | Uint8Array, except?: Transport): void {
    if (except) (except as BunTransport).ws.publish(group, message);
    else this.server?.publish(group, message);
  }
}

/** One socket as the core sees it, kept as the socket's `data` (a class: one object per socket). */
class BunTransport implements Transport {
  /** Set once the socket is open. */
  conn: Connection | undefined;
  #ws: BunSocket<BunTransport> | undefined;
  /** What `engine.open` needs; released once the socket is open. */
  #opening: PendingOpen | undefined;

  constructor(request: UpgradeRequest, accepted: RouteDecision) {
    this.#opening = { request, accepted };
  }

  /** The socket, for native publish; set before the core sees this transport. */
  get ws(): BunSocket<BunTransport> {
    return this.#ws as BunSocket<BunTransport>;
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  send(message: unknown): void {
    this.ws.send(message as string | Uint8Array);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    this.ws.ping();
  }

  opened(engine: Engine, ws: BunSocket<BunTransport>): void {
    const { request, accepted } = this.#opening as PendingOpen;
    this.#opening = undefined;
    this.#ws = ws;
    this.conn = engine.open(this, request, accepted);
  }
}

/** Bun hands binary messages over as Buffer; users get a plain Uint8Array view everywhere. */
function plainBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
