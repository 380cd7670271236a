/**
 * The contract's types in one leaf module that imports nothing: what the core
 * and the adapters exchange (sockets, requests, route decisions, how messages
 * are sent) and the plain option shapes users write. The modules that
 * implement them import from here, so the contract reads in one file and no
 * import runs in a circle.
 */

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

/**
 * An upgrade request as an adapter hands it to the engine: once the engine
 * accepts it, it keeps only the headers its connection keeps (copied out of the
 * runtime's request, which may stop answering once the upgrade is answered).
 */
export interface IncomingRequest extends UpgradeRequest {
  /** Keeps the headers `keep` names for `headers`, and lets go of the runtime's request. */
  keepHeaders(keep: KeepHeaders): void;
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

/** What `engine.open` needs once an accepted socket is open; adapters hold it until then. */
export interface PendingOpen {
  readonly request: UpgradeRequest;
  readonly accepted: RouteDecision;
}

/**
 * Which upgrade-request headers a connection keeps for `conn.headers`: all
 * (`true`), none (`false`), or the listed lower-case names.
 */
export type KeepHeaders = boolean | readonly string[];

/**
 * Answers plain (non-upgrade) HTTP requests with web-standard `Request`/`Response`.
 * Return `undefined` to fall back to polysocket's answer (426 on the WebSocket path, else 404).
 */
export type RequestHandler = (request: Request) => Response | undefined | Promise<Response | undefined>;

/** What `onUpgrade` returns to accept a connection, optionally with data (typed `Data`) and a subprotocol. */
export interface UpgradeAccept<Data = unknown> {
  /** Becomes `conn.data`. */
  data?: Data;
  /** One of the subprotocols the client offered (`sec-websocket-protocol`). */
  protocol?: string;
}

/** What `onUpgrade` returns to refuse a connection: plain HTTP with this status and body. */
export interface UpgradeReject {
  /** HTTP status, 400..599. */
  status: number;
  /** Response body; defaults to the status text. */
  body?: string;
  /** Extra response headers (e.g. `www-authenticate`). */
  headers?: Record<string, string>;
  /**
   * Refuse in a way browsers can see (they cannot read an HTTP status): accept
   * the upgrade and close it at once with this code (4000-4999) and `body` as
   * the reason (e.g. 4401 for a 401). No connection hook runs. `polysocket/client`
   * does not reconnect after a 4000-4999 close, so a refused client stops.
   */
  closeCode?: number;
}

/** The result of `onUpgrade`: nothing (accept), an accept with data, or a reject. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets a hook that returns nothing accept
export type UpgradeResult<Data = unknown> = void | undefined | UpgradeAccept<Data> | UpgradeReject;

/** A `validate` refusal that also chooses the text its sender gets. */
export interface Refusal {
  /** Why the message was refused. */
  readonly reason: string;
  /** Sent to the sender instead of `Invalid message: {reason}` (a `ChatRoom` wraps it for resumable clients). */
  readonly reply: string;
}

/** Ping/pong liveness checks. */
export interface HeartbeatOptions {
  /** Milliseconds between pings. Default 30 000. */
  interval?: number;
  /** Milliseconds to wait for the pong before dropping the peer (1006). Default 10 000. */
  timeout?: number;
}

/** What happens to a client that reads slower than the server writes. */
export interface BackpressureOptions {
  /** Buffered bytes allowed per connection. Default 4 MiB. */
  limit?: number;
  /** `"close"` (default): close with 1013 past the limit. `"drop"`: drop messages past it, counted. */
  policy?: "close" | "drop";
}

/**
 * permessage-deflate (RFC 7692), negotiated with clients that offer it; off by
 * default. Deno's own WebSocket cannot negotiate it: there the offer is declined
 * and connections work uncompressed (docs/runtimes.md).
 */
export interface CompressionOptions {
  /** Messages smaller than this many bytes go uncompressed. Default 1024. */
  threshold?: number;
  /**
   * Keep the server's deflate context from one message to the next: smaller
   * frames for similar messages, but a compressor per connection (~256 KiB on
   * Node and Bun, 128 KiB window + 128 KiB state) and a message to N clients
   * compressed N times. Default `false`: each message stands alone, so on
   * Node a published message is compressed once for every client (Bun
   * deflates it per client either way).
   */
  serverContextTakeover?: boolean;
  /**
   * Let clients keep their deflate context: the server keeps a 32 KiB window
   * per connection to inflate them. Default `false`: clients are told to reset
   * after each message.
   */
  clientContextTakeover?: boolean;
  /**
   * Node only: zlib operations in flight at once (`ws` queues the rest), which
   * bounds the memory and fragmentation of many sockets compressing together.
   * One limit per process (the first server's applies). Default 10.
   */
  concurrency?: number;
}

/** A per-connection message rate: at most `messages` every `per` milliseconds. */
export interface RateLimitOptions {
  /** Messages allowed in each window. */
  messages: number;
  /** Window length in milliseconds. */
  per: number;
}

/**
 * TLS for a server of polysocket's own: `wss://` and `https://` on one port.
 * PEM text, as a string or its bytes (what `readFileSync(path)` returns), never a file path.
 */
export interface TlsOptions {
  /** The server's certificate in PEM, optionally followed by the intermediates of its chain. */
  cert: string | Uint8Array;
  /** Its private key in PEM (PKCS#8, PKCS#1 or SEC1); encrypted keys need `passphrase`. */
  key: string | Uint8Array;
  /**
   * Intermediate CA certificates in PEM, sent after `cert` so that a client trusting only
   * the root can build the chain. Not used to verify clients (no client certificates).
   */
  ca?: string | Uint8Array;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
}

/** A JSON value: what typed messages and rooms carry besides text and bytes. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };
