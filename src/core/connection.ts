/**
 * `Connection`: one client of a server, the same object on every runtime.
 * What only the engine may do to a connection goes through {@link control},
 * which the package entry points do not export.
 */

import { validateClose } from "./close-codes.ts";
import type { WebSocketError } from "./errors.ts";
import { messageBytes, type Observer } from "./observer.ts";
import { type Prepared, ReadyState, type Transport, type UpgradeRequest } from "./types.ts";
import { describe } from "./validate.ts";

/** Lifecycle of a connection, as read from {@link Connection.state}. */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

const STATES: readonly ConnectionState[] = ["connecting", "open", "closing", "closed"];

/** The groups of one server, as a connection uses them (see groups.ts). */
export interface GroupHost {
  /** Adds the connection; returns the key as the group keeps it (one string for all its members). */
  join(conn: Connection, key: string): string;
  leave(conn: Connection, key: string): void;
  publish(key: string, message: string | Uint8Array, except?: Connection): number;
}

/** What a connection asks of its server: backpressure policy, framing, groups and dropping. */
export interface ConnectionHost {
  readonly limit: number;
  readonly policy: "close" | "drop";
  /** Makes a message ready for the transport (the binding's {@link Wire.prepare}). */
  prepare(message: string | Uint8Array): Prepared;
  /** The server's groups: topics, and the audiences of rooms. */
  readonly groups: GroupHost;
  /** The buffer passed `limit` under the "close" policy. */
  overLimit(conn: Connection): void;
  /** The buffer passed half the limit: watch it until it drains. */
  congested(conn: Connection): void;
  /** Drop the connection now and end it (some runtimes cannot drop a socket). */
  terminate(conn: Connection): void;
  /** The server's metrics observer, if it has one (room stores report through it too). */
  readonly observer: Observer | undefined;
}

/** A close this side started: its code, reason, and the policy error behind it. */
export interface CloseRecord {
  readonly code: number;
  readonly reason: string;
  readonly error?: WebSocketError;
}

/** The topics of a connection that never subscribed. */
const NO_TOPICS: ReadonlySet<string> = new Set();

/** The group key of a user topic; other keys (rooms' audiences) never collide with it. */
export const topicKey = (topic: string): string => TOPIC + topic;

const TOPIC = "t:";

/** Whether a group key is a user topic's (not a room's audience). */
export const isTopicKey = (key: string): boolean => key.startsWith(TOPIC);

/** The most bytes a message can add to a send buffer: a 14-byte frame header, 3 UTF-8 bytes per UTF-16 unit. */
function frameBound(message: string | Uint8Array): number {
  return (typeof message === "string" ? message.length * 3 : message.byteLength) + 14;
}

/** Engine-side access to connections (filled in by the class's static block). */
export const control = {} as ConnectionControl;

/**
 * A connected WebSocket client. Created by the server; passed to every hook.
 * `Data` is the type of {@link data}, given by the server's type arguments.
 */
export class Connection<Data = unknown> {
  /** Unique per server (and, in practice, across servers): a URL-safe string. */
  readonly id: string;
  /** Path and query of the upgrade request, e.g. `/chat?room=1`. */
  readonly url: string;
  /** IP address of the peer, or `""` when the runtime cannot tell. */
  readonly remoteAddress: string;
  /** The subprotocol chosen in `onUpgrade`, or `""`. */
  readonly protocol: string;
  /** Per-connection state: what `onUpgrade` attached, or anything the application stores. */
  data: Data;
  readonly #transport: Transport;
  readonly #host: ConnectionHost;
  readonly #request: UpgradeRequest;
  #closeSent: CloseRecord | undefined;
  #ended = false;
  #dropped = 0;
  /**
   * Every group key this connection is in (its topics as `t:{name}`, and rooms'
   * audiences), to leave them at the end; made on the first join (most
   * connections never subscribe).
   */
  #keys: Set<string> | undefined;

  /** Created by the server's engine ({@link ConnectionControl.create}); users receive connections from hooks. */
  private constructor(
    transport: Transport,
    request: UpgradeRequest,
    init: { id: string; data: unknown; protocol: string; host: ConnectionHost },
  ) {
    this.id = init.id;
    this.url = request.url;
    this.remoteAddress = request.remoteAddress;
    this.protocol = init.protocol;
    // The server's `Data` type argument vouches for what its `onUpgrade` attached.
    this.data = init.data as Data;
    this.#transport = transport;
    this.#host = init.host;
    this.#request = request;
  }

  /** Headers of the upgrade request, lower-case names, read-only. */
  get headers(): Readonly<Record<string, string>> {
    return this.#request.headers;
  }

  /**
   * Where the connection is in its lifecycle. "closed" once the server has seen
   * it end (and `onDisconnect` is due); "closing" from `close()` until then.
   */
  get state(): ConnectionState {
    if (this.#ended) return "closed";
    const state = STATES[this.#transport.readyState] ?? "closed";
    return state === "closed" || this.#closeSent ? "closing" : state;
  }

  /** Bytes queued for this client but not yet written to the network. */
  get bufferedAmount(): number {
    return this.#transport.bufferedAmount;
  }

  /** Messages not sent because this client's buffer was over the limit (policy "drop"). */
  get droppedMessages(): number {
    return this.#dropped;
  }

  /** The topics this connection is subscribed to (read-only; empty once it ended). */
  get topics(): ReadonlySet<string> {
    if (this.#keys === undefined) return NO_TOPICS;
    const topics = new Set<string>();
    for (const key of this.#keys) if (key.startsWith(TOPIC)) topics.add(key.slice(TOPIC.length));
    return topics;
  }

  /**
   * Sends a text (string) or binary (bytes) message. Never throws for a closed
   * connection: returns `false` when nothing was sent (closed, or dropped by
   * the backpressure policy). Changing the bytes after this returns changes
   * nothing the client receives.
   */
  send(message: string | Uint8Array): boolean {
    const sent = this.#send(message, undefined);
    // Counted here, not in #send: a group's fan-out reports once per publish.
    if (sent) this.#host.observer?.messageSent(messageBytes(message));
    return sent;
  }

  /**
   * Subscribes to `topic`: from now on this connection receives what is
   * published to it, until {@link unsubscribe} or the end of the connection.
   * Does nothing on a connection that is closing or closed. Throws `TypeError`
   * for a topic that is not a non-empty string.
   */
  subscribe(topic: string): void {
    checkTopic(topic);
    if (this.#closeSent || this.#ended) return;
    this.#join(topicKey(topic));
  }

  /** Leaves `topic`; does nothing if not subscribed. */
  unsubscribe(topic: string): void {
    checkTopic(topic);
    this.#leave(topicKey(topic));
  }

  /** Whether this connection is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return this.#keys?.has(topicKey(topic)) ?? false;
  }

  /**
   * Sends `message` to every subscriber of `topic` but this connection, on the
   * same path as the server's `publish`. Returns how many connections it was
   * handed to.
   */
  publish(topic: string, message: string | Uint8Array): number {
    checkTopic(topic);
    return this.#host.groups.publish(topicKey(topic), message, this);
  }

  /**
   * Starts the closing handshake with `code` (default 1000) and `reason`.
   * Throws `TypeError` for a code a server may not send or a reason over 123 bytes;
   * does nothing if the connection is already closing or closed.
   */
  close(code = 1000, reason = ""): void {
    validateClose(code, reason);
    this.#closeFor(code, reason);
  }

  /**
   * Drops the connection at once, without a closing handshake (as `ws`'s
   * `terminate()`); `onDisconnect` follows with 1006.
   */
  terminate(): void {
    this.#host.terminate(this);
  }

  #send(message: string | Uint8Array, prepared: Prepared | undefined): boolean {
    const transport = this.#transport;
    if (transport.readyState !== ReadyState.OPEN || this.#closeSent) return false;
    const buffered = transport.bufferedAmount;
    // Cheap when the buffer is empty, the common case; strings are sized by length.
    if (buffered > 0 && buffered + message.length > this.#host.limit) return this.#overLimit();
    try {
      transport.send(prepared === undefined ? this.#host.prepare(message) : prepared);
    } catch {
      return false; // the socket closed under us; `onDisconnect` follows
    }
    // Re-read only if this message could have taken the buffer past half the limit: on
    // Deno every read of `bufferedAmount` is a call into the runtime, once per client.
    const half = this.#host.limit / 2;
    if (buffered + frameBound(message) >= half && transport.bufferedAmount >= half)
      this.#host.congested(this);
    return true;
  }

  #overLimit(): false {
    if (this.#host.policy === "drop") {
      this.#dropped++;
      this.#host.observer?.backpressureDropped();
    } else this.#host.overLimit(this);
    return false;
  }

  #join(key: string): void {
    if (this.#keys?.has(key) || this.#ended) return;
    this.#keys ??= new Set();
    this.#keys.add(this.#host.groups.join(this, key));
  }

  #leave(key: string): void {
    if (!this.#keys?.delete(key)) return;
    this.#host.groups.leave(this, key);
  }

  #closeFor(code: number, reason: string, error?: WebSocketError): void {
    if (!this.#recordClose(code, reason, error)) return;
    if (this.#transport.readyState === ReadyState.OPEN) this.#transport.close(code, reason);
  }

  #recordClose(code: number, reason: string, error?: WebSocketError): boolean {
    if (this.#closeSent || this.#ended) return false;
    this.#closeSent = { code, reason, error };
    return true;
  }

  #drop(error?: WebSocketError): void {
    if (this.#ended) return;
    if (error && !this.#closeSent) this.#closeSent = { code: 1006, reason: "", error };
    this.#transport.terminate();
  }

  /** Marks the connection ended and leaves every group; false if it already was. */
  #markEnded(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    if (this.#keys) for (const key of this.#keys) this.#host.groups.leave(this, key);
    this.#keys?.clear();
    return true;
  }

  static {
    Object.assign(control, {
      create: (transport, request, init) => new Connection(transport, request, init),
      transport: (conn) => conn.#transport,
      closeSent: (conn) => conn.#closeSent,
      closeFor: (conn, code, reason, error) => conn.#closeFor(code, reason, error),
      recordClose: (conn, code, reason, error) => conn.#recordClose(code, reason, error),
      drop: (conn, error) => conn.#drop(error),
      markEnded: (conn) => conn.#markEnded(),
      sendPrepared: (conn, message, prepared) => conn.#send(message, prepared),
      join: (conn, key) => conn.#join(key),
      inGroup: (conn, key) => conn.#keys?.has(key) ?? false,
      leave: (conn, key) => conn.#leave(key),
      host: (conn) => conn.#host,
    } satisfies ConnectionControl);
  }
}

/** What the engine (and the core's groups) may do to a connection; not part of the public API. */
export interface ConnectionControl {
  /** A new connection (the constructor is private: users receive connections from hooks). */
  create(
    transport: Transport,
    request: UpgradeRequest,
    init: { id: string; data: unknown; protocol: string; host: ConnectionHost },
  ): Connection;
  /** The adapter's socket, for native groups and pings. */
  transport(conn: Connection): Transport;
  /** The close this side started, if any. */
  closeSent(conn: Connection): CloseRecord | undefined;
  /** Closes with a policy error that `onDisconnect` will carry. */
  closeFor(conn: Connection, code: number, reason: string, error?: WebSocketError): void;
  /** Records why the connection is closing (the runtime may already have closed it). */
  recordClose(conn: Connection, code: number, reason: string, error?: WebSocketError): boolean;
  /** Drops the connection without a handshake; `error` explains why. */
  drop(conn: Connection, error?: WebSocketError): void;
  /** Marks the socket closed and leaves every group; false if it already was (runtimes may report twice). */
  markEnded(conn: Connection): boolean;
  /** `send` with the message already prepared for the transport (group fan-out). */
  sendPrepared(conn: Connection, message: string | Uint8Array, prepared: Prepared): boolean;
  /** Joins an internal group (a room's audience). */
  join(conn: Connection, key: string): void;
  /** Leaves an internal group. */
  leave(conn: Connection, key: string): void;
  /** Whether the connection is in group `key`. */
  inGroup(conn: Connection, key: string): boolean;
  /** The connection's server, as the connection sees it. */
  host(conn: Connection): ConnectionHost;
}

/** Throws `TypeError` unless `topic` is a non-empty string. */
export function checkTopic(topic: unknown): void {
  if (typeof topic !== "string" || topic === "") {
    throw new TypeError(`topic must be a non-empty string, got ${describe(topic)}`);
  }
}
