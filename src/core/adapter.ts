/**
 * The seam between the runtime-neutral core and a runtime adapter.
 *
 * An adapter translates its runtime's HTTP server and WebSocket into these
 * shapes and calls the {@link Engine} on every event; all behaviour lives in
 * the engine. Adapters import this module, never the reverse.
 */
import type { Connection } from "./connection.ts";
import type { LazyUpgradeRequest } from "./headers.ts";
import type { ResolvedOptions } from "./options.ts";

/** WebSocket ready states, numbered as in the WHATWG WebSocket, `ws` and Bun. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** One accepted socket, as an adapter exposes it to the core. */
export interface Transport {
  /** 0..3, as in {@link ReadyState}. */
  readonly readyState: number;
  /** Bytes queued by the runtime but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Queues one message; may throw if the socket is no longer open. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  /** Sends a ping; absent where the runtime has no ping API (Deno pings natively). */
  ping?(): void;
  /** The runtime's publish/subscribe this socket can join; absent where there is none (Node, Deno). */
  readonly topics?: NativeTopics;
}

/**
 * A runtime's native publish/subscribe, one per server (Bun's topics): a message
 * published once is framed once and written to every subscribed socket natively.
 */
export interface NativeTopics {
  /** Adds the socket to `topic`; a closed socket is ignored. */
  subscribe(transport: Transport, topic: string): void;
  /** Removes the socket from `topic`; a closed socket is ignored. */
  unsubscribe(transport: Transport, topic: string): void;
  /** Sends `data` to every open socket subscribed to `topic`. */
  publish(topic: string, data: string | Uint8Array): void;
}

/** What the core learns about an upgrade request before accepting it. */
export interface UpgradeRequest {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path and query, e.g. `/chat?room=1`. */
  readonly url: string;
  /** Request headers with lower-case names, frozen (built on first read). */
  readonly headers: Readonly<Record<string, string>>;
  /** One header by lower-case name, repeats joined with ", "; cheaper than reading `headers`. */
  header(name: string): string | undefined;
  /** Whether the request asks for a WebSocket upgrade. */
  readonly upgrade: boolean;
  /** Peer IP address, or `""` when the runtime cannot tell. */
  readonly remoteAddress: string;
}

/** The core's answer to a request: upgrade it (with data and subprotocol), or reply with plain HTTP. */
export type RouteDecision =
  | { readonly upgrade: true; readonly data?: unknown; readonly protocol?: string }
  | {
      readonly upgrade: false;
      readonly status: number;
      readonly body: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

/** The limits an adapter hands to its runtime's native settings. */
export type EngineLimits = Pick<
  ResolvedOptions,
  "port" | "hostname" | "maxPayload" | "heartbeat" | "handshakeTimeout" | "backpressure"
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

/** What `engine.open` needs once an accepted socket is open; adapters hold it until then. */
export interface PendingOpen {
  readonly request: UpgradeRequest;
  readonly accepted: RouteDecision;
}

/** What the core offers an adapter: one call per runtime event. */
export interface Engine {
  /** Options the adapter passes on to its runtime. */
  readonly limits: EngineLimits;
  /**
   * Decides what happens to a request, before any socket exists. On an accepted
   * upgrade the request keeps only the headers its connection keeps, copied out
   * of the runtime's request, so the adapter may answer the upgrade right after.
   */
  route(request: LazyUpgradeRequest): RouteDecision | Promise<RouteDecision>;
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
  /** Sends one message to every open socket but `except`, natively; false if unsupported. */
  publish?(data: string | Uint8Array, except?: Transport): boolean;
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
