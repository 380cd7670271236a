/**
 * The seam between the runtime-neutral core and a runtime adapter.
 *
 * An adapter translates its runtime's HTTP server and WebSocket into these
 * shapes and calls the {@link Engine} on every event; all behaviour lives in
 * the engine. Adapters import this module, never the reverse.
 */
import type { Connection } from "./connection.ts";
import type { ResolvedOptions } from "./options.ts";
import type { IncomingRequest, RouteDecision, Transport, UpgradeRequest, Wire } from "./types.ts";

export type {
  IncomingRequest,
  NativeGroups,
  PendingOpen,
  Prepared,
  RouteDecision,
  Transport,
  UpgradeRequest,
  Wire,
} from "./types.ts";
export { ReadyState } from "./types.ts";

/** The limits an adapter hands to its runtime's native settings. */
export type EngineLimits = Pick<
  ResolvedOptions,
  | "port"
  | "hostname"
  | "maxPayload"
  | "heartbeat"
  | "handshakeTimeout"
  | "backpressure"
  | "compression"
  | "tls"
>;

/**
 * Runs `next` with the route's decision: in the same tick when routing was
 * synchronous (no async `onUpgrade`), so a connection costs no promise.
 */
export function whenRouted<T>(
  decision: RouteDecision | Promise<RouteDecision>,
  next: (decided: RouteDecision) => T,
): T | Promise<Awaited<T>> {
  // `then` flattens a promise that `next` returns; TypeScript cannot see that for a generic T.
  return decision instanceof Promise ? (decision.then(next) as Promise<Awaited<T>>) : next(decision);
}

/** What the core offers an adapter: one call per runtime event. */
export interface Engine {
  /** Options the adapter passes on to its runtime. */
  readonly limits: EngineLimits;
  /** How this binding sends; called once, before any socket is accepted. */
  attach(wire: Wire): void;
  /** Whether `url` (path and query) is on this server's path: a mounted server leaves the rest to its host. */
  owns(url: string): boolean;
  /**
   * Decides what happens to a request, before any socket exists. On an accepted
   * upgrade the request keeps only the headers its connection keeps, copied out
   * of the runtime's request, so the adapter may answer the upgrade right after.
   */
  route(request: IncomingRequest): RouteDecision | Promise<RouteDecision>;
  /**
   * Answers a request `route` refused: plain requests go to the user's `onRequest`
   * first, then get `decision`. Never rejects.
   */
  respond(
    request: Request,
    route: UpgradeRequest,
    decision: Extract<RouteDecision, { upgrade: false }>,
  ): Promise<Response>;
  /** A socket finished its handshake; returns the connection to pass to later calls. */
  open(transport: Transport, request: UpgradeRequest, accepted: RouteDecision): Connection;
  /** The peer answered a ping. */
  pong(conn: Connection): void;
  /** The runtime's own ping check gave up on the peer (Deno). */
  heartbeatFailed(conn: Connection): void;
  /** A message arrived: text as string, binary as bytes. */
  message(conn: Connection, data: string | Uint8Array): void;
  /** The socket is closed (once or more; the engine dedupes). */
  closed(conn: Connection, code: number, reason: string): void;
  /** The runtime reported an error, on a socket or the server. */
  error(error: unknown, conn?: Connection): void;
}

/** A bound server, as returned by {@link Adapter.listen}. */
export interface Listener {
  /** The real port, also when 0 was asked for. */
  readonly port: number;
  /** Stops accepting and releases the port; open sockets are dropped. */
  stop(): Promise<void>;
}

/** A runtime binding: starts a server that reports to the engine. */
export interface Adapter {
  /** Which runtime this adapter binds. */
  readonly runtime: "node" | "bun" | "deno";
  /** Binds the port; rejects with the runtime's own error on failure. */
  listen(engine: Engine): Promise<Listener>;
}
