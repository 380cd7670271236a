/**
 * The Bun binding's handlers: a `fetch` handler and the `websocket` handler
 * object of `Bun.serve`. `listen` (adapter.ts) serves them on a `Bun.serve` of
 * polysocket's own; a mounted polysocket server hands them to the user's. The
 * `websocket` events go to whichever polysocket server a socket belongs to, so
 * several servers may share one `Bun.serve`. They only translate: behaviour
 * lives in the core engine.
 * @see https://bun.sh/docs/api/websockets
 */
import type {
  Engine,
  EngineLimits,
  NativeGroups,
  PendingOpen,
  RouteDecision,
  Transport,
  UpgradeRequest,
} from "../../core/adapter.ts";
import { whenRouted } from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { requestFromFetch } from "../../core/headers.ts";
import { randomId } from "../../core/id.ts";
import { bunDeflate, compressor } from "./compression.ts";
import type { BunServer, BunSocket, BunWebSocketHandler } from "./types.ts";

/** What a `Bun.serve` needs from one polysocket server. */
export interface BunHandlers {
  /** Answers a request for this server: upgrades it (`undefined`, as Bun wants) or answers plain HTTP. */
  fetch(req: Request, server: BunServer<BunTransport>): Response | undefined | Promise<Response | undefined>;
  /** `Bun.serve`'s `websocket` option, with this server's limits. */
  readonly websocket: BunWebSocketHandler<BunTransport>;
}

/** The handlers of one polysocket server, reporting to `engine`. */
export function bunHandlers(engine: Engine): BunHandlers {
  const compress = compressor(engine.limits);
  const groups = new BunGroups(compress);
  // Bun's send and publish copy the bytes before they return: messages go as they are.
  engine.attach({ prepare: (message) => message, groups });
  return {
    fetch(req, server) {
      groups.server ??= server;
      const request = requestFromFetch(req, server.requestIP(req)?.address ?? "");
      return whenRouted(engine.route(request), (decided) => {
        if (!decided.upgrade) return engine.respond(req, request, decided);
        const headers = decided.protocol ? { "sec-websocket-protocol": decided.protocol } : undefined;
        const data = new BunTransport(engine, request, decided, compress);
        if (server.upgrade(req, { data, headers })) return undefined;
        return new Response("Bad WebSocket handshake", { status: 400 });
      });
    },
    websocket: websocketHandler(engine.limits),
  };
}

/** The socket events, the same for every polysocket server: each socket's `data` knows its engine. */
const EVENTS = {
  open(ws: BunSocket<BunTransport>): void {
    ws.data.opened(ws);
  },
  message(ws: BunSocket<BunTransport>, message: string | Uint8Array): void {
    const data = typeof message === "string" ? message : plainBytes(message);
    ws.data.engine.message(ws.data.conn as Connection, data);
  },
  pong(ws: BunSocket<BunTransport>): void {
    ws.data.engine.pong(ws.data.conn as Connection);
  },
  close(ws: BunSocket<BunTransport>, code: number, reason: string): void {
    const { engine } = ws.data;
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
};

function websocketHandler(limits: EngineLimits): BunWebSocketHandler<BunTransport> {
  return {
    ...EVENTS,
    // No idle or ping policy of Bun's own: the core's heartbeat decides.
    idleTimeout: 0,
    sendPings: false,
    publishToSelf: false,
    maxPayloadLength: limits.maxPayload,
    // Native publish bypasses per-connection sends: Bun applies the same limit to it.
    backpressureLimit: limits.backpressure.limit,
    closeOnBackpressureLimit: limits.backpressure.policy === "close",
    perMessageDeflate: bunDeflate(limits),
  };
}

/**
 * One polysocket server's groups as Bun topics. Topics belong to a `Bun.serve`,
 * which several polysocket servers may share when mounted: each one's topic
 * names carry a prefix of its own.
 */
class BunGroups implements NativeGroups {
  /** The `Bun.serve` the sockets belong to; known from the first request, before any socket exists. */
  server: BunServer<BunTransport> | undefined;
  readonly #prefix = `${randomId()}:`;
  /** Whether a message is compressed (for the subscribers that negotiated it), decided once per publish; Bun deflates it per subscriber. */
  readonly #compress: (message: string | Uint8Array) => boolean;

  constructor(compress: (message: string | Uint8Array) => boolean) {
    this.#compress = compress;
  }

  join(transport: Transport, group: string): void {
    (transport as BunTransport).ws.subscribe(this.#prefix + group);
  }

  leave(transport: Transport, group: string): void {
    (transport as BunTransport).ws.unsubscribe(this.#prefix + group);
  }

  /** `ws.publish` reaches every subscriber but that socket (an open one: a closed socket publishes nothing). */
  publish(group: string, message: string | Uint8Array, except?: Transport): void {
    const compress = this.#compress(message);
    if (except?.readyState === 1)
      (except as BunTransport).ws.publish(this.#prefix + group, message, compress);
    else this.server?.publish(this.#prefix + group, message, compress);
  }
}

/** One socket as the core sees it, kept as the socket's `data` (a class: one object per socket). */
export class BunTransport implements Transport {
  /** Set once the socket is open. */
  conn: Connection | undefined;
  #ws: BunSocket<BunTransport> | undefined;
  /** What `engine.open` needs; released once the socket is open. */
  #opening: PendingOpen | undefined;

  /** The engine of the polysocket server this socket belongs to. */
  readonly engine: Engine;
  /** Whether a message is compressed, for a socket that negotiated it (one function per server). */
  readonly #compress: (message: string | Uint8Array) => boolean;

  constructor(
    engine: Engine,
    request: UpgradeRequest,
    accepted: RouteDecision,
    compress: (message: string | Uint8Array) => boolean,
  ) {
    this.engine = engine;
    this.#opening = { request, accepted };
    this.#compress = compress;
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
    const data = message as string | Uint8Array;
    this.ws.send(data, this.#compress(data));
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

  opened(ws: BunSocket<BunTransport>): void {
    const { request, accepted } = this.#opening as PendingOpen;
    this.#opening = undefined;
    this.#ws = ws;
    this.conn = this.engine.open(this, request, accepted);
  }
}

/** Bun hands binary messages over as Buffer; users get a plain Uint8Array view everywhere. */
function plainBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
