/**
 * The few Deno APIs the adapter uses, copied structurally so that published
 * declarations never depend on Deno's global types. `test/types/deno.check.ts`
 * proves them against the real ones with `deno check`.
 */

/** Deno's server-side `WebSocket`, as far as the adapter uses it. */
export interface DenoSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: "blob" | "arraybuffer";
  addEventListener(type: "open" | "message" | "close" | "error", listener: EventListenerObject): void;
  send(data: string | Uint8Array | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

/** Deno's `ServeHandlerInfo`, as far as the adapter uses it. */
export interface DenoServeInfo {
  /** The peer's address. */
  readonly remoteAddr: { readonly hostname?: string };
}

/** Deno's `HttpServer`, as far as the adapter uses it. */
export interface DenoHttpServer {
  readonly addr: { readonly port?: number };
  shutdown(): Promise<void>;
}

/** The options of `Deno.serve` the adapter passes: `cert` (the whole chain) and `key` in PEM for TLS. */
export interface DenoServeOptions {
  port: number;
  hostname: string;
  onListen: () => void;
  cert?: string;
  key?: string;
}

/** The global `Deno`, as far as the adapter uses it. */
export interface DenoGlobal {
  serve(
    options: DenoServeOptions,
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(
    request: Request,
    options: { idleTimeout: number },
  ): { socket: DenoSocket; response: Response };
}
