/**
 * The few Bun APIs the adapter uses, copied structurally so that published
 * declarations never depend on `bun-types` (which would clash with users'
 * Node or DOM types). `test/types/bun.check.ts` proves them against the real ones.
 */

/** Bun's `ServerWebSocket`, as far as the adapter uses it. */
export interface BunSocket<Data> {
  readonly readyState: number;
  readonly data: Data;
  /** `compress`: deflate it, if the socket negotiated permessage-deflate. */
  send(data: string | Uint8Array, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
  getBufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  ping(data?: string | Uint8Array): number;
}

/** Bun's `Server`, as far as the adapter uses it. */
export interface BunServer<Data> {
  readonly port: number | undefined;
  upgrade(request: Request, options: { data: Data; headers?: Record<string, string> }): boolean;
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  requestIP(request: Request): { address: string } | null;
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
  open(ws: BunSocket<Data>): void;
  message(ws: BunSocket<Data>, message: string | Uint8Array): void;
  pong(ws: BunSocket<Data>): void;
  close(ws: BunSocket<Data>, code: number, reason: string): void;
  idleTimeout: number;
  sendPings: boolean;
  publishToSelf: boolean;
  maxPayloadLength: number;
  backpressureLimit: number;
  closeOnBackpressureLimit: boolean;
  /** `false`, or which compressors permessage-deflate uses. */
  perMessageDeflate: BunDeflate | false;
}

/** Bun's compressor choices, as far as the adapter uses them. */
export interface BunDeflate {
  compress: "shared" | "dedicated";
  decompress: "shared" | "dedicated";
}

/** The global `Bun`, as far as the adapter uses it. */
export interface BunGlobal {
  serve<Data>(options: BunServeOptions<Data>): BunServer<Data>;
}
