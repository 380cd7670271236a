/**
 * `Connection`: one client of a server, the same object on every runtime.
 */
import { ReadyState, type Transport, type UpgradeRequest } from "./adapter.ts";
import { validateClose } from "./close-codes.ts";

/** Lifecycle of a connection, as read from {@link Connection.state}. */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

const STATES: readonly ConnectionState[] = ["connecting", "open", "closing", "closed"];

/** A connected WebSocket client. Created by the server; passed to every hook. */
export class Connection {
  /** Unique per server (and, in practice, across servers): a URL-safe string. */
  readonly id: string;
  /** Headers of the upgrade request, lower-case names, read-only. */
  readonly headers: Readonly<Record<string, string>>;
  /** Path and query of the upgrade request, e.g. `/chat?room=1`. */
  readonly url: string;
  /** IP address of the peer, or `""` when the runtime cannot tell. */
  readonly remoteAddress: string;
  /** Free slot for the application's per-connection state. */
  data: unknown;
  readonly #transport: Transport;
  #closeSent: { code: number; reason: string } | undefined;
  #ended = false;

  /** @internal Created by the server's engine; users receive connections from hooks. */
  constructor(transport: Transport, request: UpgradeRequest, id: string) {
    this.id = id;
    this.headers = request.headers;
    this.url = request.url;
    this.remoteAddress = request.remoteAddress;
    this.#transport = transport;
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

  /**
   * Sends a text (string) or binary (bytes) message.
   * Never throws for a closed connection: it returns `false` when nothing was sent.
   */
  send(message: string | Uint8Array): boolean {
    if (this.#transport.readyState !== ReadyState.OPEN) return false;
    try {
      this.#transport.send(message);
      return true;
    } catch {
      return false; // the socket closed under us; `onDisconnect` follows
    }
  }

  /**
   * Starts the closing handshake with `code` (default 1000) and `reason`.
   * Throws `TypeError` for a code a server may not send or a reason over 123 bytes;
   * does nothing if the connection is already closing or closed.
   */
  close(code = 1000, reason = ""): void {
    validateClose(code, reason);
    if (this.#transport.readyState !== ReadyState.OPEN) return;
    this.#closeSent = { code, reason };
    this.#transport.close(code, reason);
  }

  /** @internal The code and reason this side sent, if it closed first. */
  get closeSent(): { code: number; reason: string } | undefined {
    return this.#closeSent;
  }

  /** @internal Marks the socket closed; false if it already was (runtimes may report twice). */
  markEnded(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    return true;
  }

  /** @internal Drops the connection without a handshake. */
  terminate(): void {
    this.#transport.terminate();
  }

  /** @internal The adapter's socket, for native fan-out. */
  get transport(): Transport {
    return this.#transport;
  }
}
