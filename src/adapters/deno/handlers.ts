/**
 * The Deno binding's handler: a `Deno.serve` handler, `(request, info) =>
 * Response`, with `Deno.upgradeWebSocket` for sockets. `listen` (adapter.ts)
 * gives it a `Deno.serve` of polysocket's own; a mounted polysocket server
 * hands it to the user's handler or router. It only translates: behaviour
 * lives in the core engine.
 * @see https://docs.deno.com/api/deno/~/Deno.upgradeWebSocket
 */
import type {
  Engine,
  EngineLimits,
  PendingOpen,
  RouteDecision,
  Transport,
  UpgradeRequest,
  Wire,
} from "../../core/adapter.ts";
import { whenRouted } from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { type LazyUpgradeRequest, requestFromFetch } from "../../core/headers.ts";
import type { DenoGlobal, DenoServeInfo, DenoSocket } from "./types.ts";

/** A `Deno.serve` handler. */
export type DenoHandler = (request: Request, info: DenoServeInfo) => Response | Promise<Response>;

/**
 * Deno's `send` copies the bytes before it returns (checked: a buffer refilled
 * right after `send` arrives as it was), and has no native groups: a message is
 * passed as it is, and the core's loop sends it to each member (as fast as
 * Deno's own loop: docs/performance.md).
 */
const DENO_WIRE: Wire = { prepare: (message) => message };

/** The reason Deno gives when its own ping got no pong. */
const NO_PONG = /no response from ping/i;

/** The handler of one polysocket server, reporting to `engine`. */
export function denoHandler(engine: Engine): DenoHandler {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  engine.attach(DENO_WIRE);
  return (req, info) => {
    const request = requestFromFetch(req, info.remoteAddr.hostname ?? "");
    return whenRouted(engine.route(request), (decided) =>
      upgradeOrRespond(engine, deno, req, request, decided),
    );
  };
}

function upgradeOrRespond(
  engine: Engine,
  deno: DenoGlobal,
  req: Request,
  request: LazyUpgradeRequest,
  decision: RouteDecision,
): Response | Promise<Response> {
  if (!decision.upgrade) return engine.respond(req, request, decision);
  const { socket, response } = deno.upgradeWebSocket(req, { idleTimeout: pingSeconds(engine.limits) });
  // Deno's own `protocol` option splits the offer on ", " only and rejects "a,b";
  // the core already checked the choice against the offer, so set the header directly.
  if (decision.protocol) response.headers.set("sec-websocket-protocol", decision.protocol);
  bind(engine, socket, request, decision);
  return response;
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
  // One listener object for the four events: no closures (nor Deno's wrappers of `onX` handlers) per socket.
  const binding = new DenoTransport(engine, socket, request, accepted);
  socket.addEventListener("open", binding);
  socket.addEventListener("message", binding);
  socket.addEventListener("close", binding);
  socket.addEventListener("error", binding);
}

/** One socket as the core sees it, and the events it forwards (a class: one object per socket). */
class DenoTransport implements Transport, EventListenerObject {
  #conn: Connection | undefined;
  readonly #engine: Engine;
  readonly #socket: DenoSocket;
  /** What `engine.open` needs; released once the socket is open. */
  #opening: PendingOpen | undefined;

  constructor(engine: Engine, socket: DenoSocket, request: UpgradeRequest, accepted: RouteDecision) {
    this.#engine = engine;
    this.#socket = socket;
    this.#opening = { request, accepted };
  }

  get readyState(): number {
    return this.#socket.readyState;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  send(message: unknown): void {
    const data = message as string | Uint8Array;
    this.#socket.send(typeof data === "string" ? data : wholeBuffer(data));
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  /** Deno cannot drop a socket without a handshake; a close frame is the closest. */
  terminate(): void {
    this.#socket.close(1001, "terminated");
  }

  /** The socket's events, dispatched to the methods below. */
  handleEvent(event: Event): void {
    const type = event.type;
    if (type === "message") this.received((event as MessageEvent).data);
    else if (type === "open") this.opened();
    else if (type === "close") this.closed((event as CloseEvent).code, (event as CloseEvent).reason);
    else if (type === "error") this.failed((event as ErrorEvent).message ?? "");
  }

  opened(): void {
    const { request, accepted } = this.#opening as PendingOpen;
    this.#opening = undefined;
    this.#conn = this.#engine.open(this, request, accepted);
  }

  received(data: unknown): void {
    const conn = this.#conn;
    if (conn)
      this.#engine.message(conn, typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  }

  closed(code: number, reason: string): void {
    const conn = this.#conn;
    if (!conn) return;
    if (code === 1001 && NO_PONG.test(reason)) this.#engine.heartbeatFailed(conn);
    this.#engine.closed(conn, code, reason);
  }

  failed(message: string): void {
    if (!NO_PONG.test(message)) this.#engine.error(new Error(message), this.#conn);
  }
}

/**
 * The bytes as a bare `ArrayBuffer` when the view covers all of one: Deno's
 * `send` takes that path faster than a view (measured on 1 MiB echo: ~200 µs
 * against ~255 µs per send), and a message received here is such a view.
 */
function wholeBuffer(data: Uint8Array): Uint8Array | ArrayBuffer {
  const { buffer } = data;
  const whole = data.byteOffset === 0 && data.byteLength === buffer.byteLength;
  return whole && buffer instanceof ArrayBuffer ? buffer : data;
}
