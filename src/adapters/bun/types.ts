/**
 * The few Bun APIs the adapter uses, copied structurally so that published
 * declarations never depend on `bun-types` (which would clash with users'
 * Node or DOM types). `test/types/bun.check.ts` proves them against the real ones.
 */

/** Bun's `ServerWebSocket`, as far as the adapter uses it. */
export interface BunSocket<Data> {
  /** 0..3, as in the WHATWG WebSocket. */
  readonly readyState: number;
  /** What `server.upgrade` attached. */
  readonly data: Data;
  /** `compress`: deflate it, if the socket negotiated permessage-deflate. */
  send(data: string | Uint8Array, compress?: boolean): number;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Drops the connection without a handshake. */
  terminate(): void;
  /** Bytes queued, not yet written. */
  getBufferedAmount(): number;
  /** Joins a native topic. */
  subscribe(topic: string): void;
  /** Leaves a native topic. */
  unsubscribe(topic: string): void;
  /** Sends to every subscriber of `topic` but this socket. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  /** Sends a ping. */
  ping(data?: string | Uint8Array): number;
}

/** Bun's `Server`, as far as the adapter uses it. */
export interface BunServer<Data> {
  /** The port it listens on. */
  readonly port: number | undefined;
  /** Upgrades `request` to a WebSocket with `data`; false if it is no upgrade. */
  upgrade(request: Request, options: { data: Data; headers?: Record<string, string> }): boolean;
  /** Sends to every subscriber of `topic`. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  /** The peer's address. */
  requestIP(request: Request): { address: string } | null;
  /** Stops listening (and, with `true`, drops the open connections). */
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/** The options of `Bun.serve` the adapter passes. */
export interface BunServeOptions<Data> {
  port: number;
  hostname: string;
  /** Seconds an HTTP connection may idle (the handshake timeout). */
  idleTimeout: number;
  /** PEM text; `ca` is sent after `cert` as the chain, `passphrase` decrypts `key`. */
  tls?: { cert: string; key: string; ca?: string; passphrase?: string };
  /** `undefined` once the request was upgraded. */
  fetch(request: Request, server: BunServer<Data>): Response | undefined | Promise<Response | undefined>;
  websocket: BunWebSocketHandler<Data>;
}

/** `Bun.serve`'s `websocket` option, as polysocket fills it. */
export interface BunWebSocketHandler<Data> {
  /** A socket finished its handshake. */
  open(ws: BunSocket<Data>): void;
  /** A message arrived. */
  message(ws: BunSocket<Data>, message: string | Uint8Array): void;
  /** The peer answered a ping. */
  pong(ws: BunSocket<Data>): void;
  /** The socket closed. */
  close(ws: BunSocket<Data>, code: number, reason: string): void;
  /** Bun's own idle timeout, seconds (0: off; polysocket's heartbeat decides). */
  idleTimeout: number;
  /** Bun's own pings (off: polysocket's heartbeat pings). */
  sendPings: boolean;
  /** Whether `ws.publish` reaches the publishing socket too. */
  publishToSelf: boolean;
  /** Largest message, bytes. */
  maxPayloadLength: number;
  /** Buffered bytes per socket before Bun's backpressure applies. */
  backpressureLimit: number;
  /** Close (rather than drop messages for) a socket over `backpressureLimit`. */
  closeOnBackpressureLimit: boolean;
  /** `false`, or which compressors permessage-deflate uses. */
  perMessageDeflate: BunDeflate | false;
}

/** Bun's compressor choices, as far as the adapter uses them. */
export interface BunDeflate {
  /** One compressor for every socket, or one each. */
  compress: "shared" | "dedicated";
  /** One decompressor for every socket, or one each. */
  decompress: "shared" | "dedicated";
}

/** The global `Bun`, as far as the adapter uses it. */
export interface BunGlobal {
  serve<Data>(options: BunServeOptions<Data>): BunServer<Data>;
}
