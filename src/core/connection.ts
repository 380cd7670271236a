/**
 * `Connection`: one client of a server, the same object on every runtime.
 */
import { ReadyState, type Transport, type UpgradeRequest } from "./adapter.ts";
import { validateClose } from "./close-codes.ts";
import type { WebSocketError } from "./errors.ts";

/** Lifecycle of a connection, as read from {@link Connection.state}. */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

const STATES: readonly ConnectionState[] = ["connecting", "open", "closing", "closed"];

/** @internal What a connection asks of its server: backpressure policy and dropping. */
export interface ConnectionHost {
  readonly limit: number;
  readonly policy: "close" | "drop";
  /** The buffer passed `limit` under the "close" policy. */
  overLimit(conn: Connection): void;
  /** The buffer passed half the limit: watch it until it drains. */
  congested(conn: Connection): void;
  /** Drop the connection now and end it (some runtimes cannot drop a socket). */
  terminate(conn: Connection): void;
}

/** The most bytes a message can add to a send buffer: a 14-byte frame header, 3 UTF-8 bytes per UTF-16 unit. */
function frameBound(message: string | Uint8Array): number {
  return (typeof message === "string" ? message.length * 3 : message.byteLength) + 14;
}

/** A connected WebSocket client. Created by the server; passed to every hook. */
export class Connection {
  /** Unique per server (and, in practice, across servers): a URL-safe string. */
  readonly id: string;
  /** Path and query of the upgrade request, e.g. `/chat?room=1`. */
  readonly url: string;
  /** IP address of the peer, or `""` when the runtime cannot tell. */
  readonly remoteAddress: string;
  /** The subprotocol chosen in `onUpgrade`, or `""`. */
  readonly protocol: string;
  /** Per-connection state: what `onUpgrade` attached, or anything the application stores. */
  data: unknown;
  readonly #transport: Transport;
  readonly #host: ConnectionHost;
  readonly #request: UpgradeRequest;
  #closeSent: { code: number; reason: string; error?: WebSocketError } | undefined;
  #ended = false;
  #dropped = 0;

  /** @internal Created by the server's engine; users receive connections from hooks. */
  constructor(
    transport: Transport,
    request: UpgradeRequest,
    init: { id: string; data: unknown; protocol: string; host: ConnectionHost },
  ) {
    this.id = init.id;
    this.url = request.url;
    this.remoteAddress = request.remoteAddress;
    this.protocol = init.protocol;
    this.data = init.data;
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

  /**
   * Sends a text (string) or binary (bytes) message. Never throws for a closed
   * connection: returns `false` when nothing was sent (closed, or dropped by
   * the backpressure policy).
   */
  send(message: string | Uint8Array): boolean {
    const transport = this.#transport;
    if (transport.readyState !== ReadyState.OPEN || this.#closeSent) return false;
    const buffered = transport.bufferedAmount;
    // Cheap when the buffer is empty, the common case; strings are sized by length.
    if (buffered > 0 && buffered + message.length > this.#host.limit) return this.#overLimit();
    try {
      transport.send(message);
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
    if (this.#host.policy === "drop") this.#dropped++;
    else this.#host.overLimit(this);
    return false;
  }

  /**
   * Starts the closing handshake with `code` (default 1000) and `reason`.
   * Throws `TypeError` for a code a server may not send or a reason over 123 bytes;
   * does nothing if the connection is already closing or closed.
   */
  close(code = 1000, reason = ""): void {
    validateClose(code, reason);
    this.closeFor(code, reason);
  }

  /**
   * Drops the connection at once, without a closing handshake (as `ws`'s
   * `terminate()`); `onDisconnect` follows with 1006.
   */
  terminate(): void {
    this.#host.terminate(this);
  }

  /** @internal Closes with a policy error that `onDisconnect` will carry. */
  closeFor(code: number, reason: string, error?: WebSocketError): void {
    if (!this.recordClose(code, reason, error)) return;
    if (this.#transport.readyState === ReadyState.OPEN) this.#transport.close(code, reason);
  }

  /** @internal Records why the connection is closing (the runtime may already have closed it). */
  recordClose(code: number, reason: string, error?: WebSocketError): boolean {
    if (this.#closeSent || this.#ended) return false;
    this.#closeSent = { code, reason, error };
    return true;
  }

  /** @internal Drops the connection without a handshake; `error` explains why. */
  drop(error?: WebSocketError): void {
    if (this.#ended) return;
    if (error && !this.#closeSent) this.#closeSent = { code: 1006, reason: "", error };
    this.#transport.terminate();
  }

  /** @internal The code, reason and policy error of a close this side started. */
  get closeSent(): { code: number; reason: string; error?: WebSocketError } | undefined {
    return this.#closeSent;
  }

  /** @internal Marks the socket closed; false if it already was (runtimes may report twice). */
  markEnded(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    return true;
  }

  /** @internal The adapter's socket, for native fan-out and pings. */
  get transport(): Transport {
    return this.#transport;
  }
}
