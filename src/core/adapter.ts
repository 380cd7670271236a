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

/**
 * A message made ready once for any number of sockets of one binding (Node: the
 * frame, built once; Bun and Deno: the message itself, which their `send` copies).
 * Opaque to the core: it only hands what {@link Wire.prepare} returned to {@link Transport.send}.
 */
export type Prepared = unknown;

/** One accepted socket, as an adapter exposes it to the core. */
export interface Transport {
  /** 0..3, as in {@link ReadyState}. */
  readonly readyState: number;
  /** Bytes queued by the runtime but not yet written to the network. */
  readonly bufferedAmount: number;
  /**
   * Queues one message, as {@link Wire.prepare} made it; may throw if the socket is
   * no longer open. What the client receives never changes after this returns.
   */
  send(message: Prepared): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  /** Sends a ping; absent where the runtime has no ping API (Deno pings natively). */
  ping?(): void;
}

/**
 * How the core hands messages to one binding's sockets, given by the adapter
 * before it accepts any: one message, to one socket or to a group.
 */
export interface Wire {
  /**
   * Makes `message` ready to send, once per message however many sockets get it:
   * every per-message cost that does not grow with the group (framing, copying)
   * is paid here. A buffer changed after this returns changes nothing sent.
   */
  prepare(message: string | Uint8Array): Prepared;
  /**
   * The runtime's native groups (Bun's topics), where it has them: the core
   * mirrors its group membership into them and publishes with one call.
   * Absent (Node, Deno): the core sends the prepared message to each member.
   */
  readonly groups?: NativeGroups;
}

/**
 * A runtime's native publish/subscribe, one per server (Bun's topics): a message
 * published once is framed once and written to every member natively.
 */
export interface NativeGroups {
  /** Adds the open socket to `group`. */
  join(transport: Transport, group: string): void;
  /** Removes the open socket from `group`. */
  leave(transport: Transport, group: string): void;
  /** Sends `message` to every open socket in `group` but `except` (a member, if given). */
  publish(group: string, message: string | Uint8Array, except?: Transport): void;
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
  | {
      readonly upgrade: true;
      readonly data?: unknown;
      readonly protocol?: string;
      /** Close the socket at once with this code: a refusal a browser can see (`UpgradeReject.closeCode`). */
      readonly close?: { readonly code: number; readonly reason: string };
    }
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
  /** How this binding sends; called once, before any socket is accepted. */
  attach(wire: Wire): void;
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
