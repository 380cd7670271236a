/**
 * polysocket for Bun (over `Bun.serve` and native publish).
 *
 * @example
 * ```ts
 * import { Server } from "polysocket/bun";
 * const server = new Server({ port: 8080, path: "/chat", onMessage: (conn, msg) => void conn.send(msg) });
 * await server.listen();
 * ```
 * @module
 */
import type { Adapter } from "../../core/adapter.ts";
import { BaseServer } from "../../core/server.ts";
import { bunAdapter } from "./adapter.ts";
import { type BunHandlers, type BunTransport, bunHandlers } from "./handlers.ts";
import type { BunDeflate, BunServer, BunSocket, BunWebSocketHandler } from "./types.ts";

export * from "../../core/index.ts";
export type { BunDeflate, BunServer, BunSocket, BunWebSocketHandler };
export { bunAdapter };

/**
 * A WebSocket server on Bun. `Data` types `conn.data`; `Format`, the `messages`
 * option (inferred from it), types the messages `onMessage` gets (docs/messages.md).
 */
export class Server<Data = unknown, Format = "text"> extends BaseServer<Data, Format> {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(bunAdapter);
  }

  /**
   * Hands a request from your own `Bun.serve` (its `fetch`, or a route) to this
   * server: an upgrade on this server's path becomes a connection (`undefined`
   * is returned, as Bun's `server.upgrade` wants); anything else gets the answer
   * a server of its own would give (`onRequest`, 426, 404). Pass the
   * `websocket` handlers to the same `Bun.serve`.
   *
   * @example
   * ```ts
   * import { type BunServer, Server } from "polysocket/bun";
   * const ws = new Server({ path: "/ws", onMessage: (conn, message) => void conn.send(message) });
   * // Your own Bun.serve's fetch, with polysocket's path beside the app's routes:
   * const fetch = (req: Request, server: BunServer<never>) =>
   *   new URL(req.url).pathname === ws.path ? ws.upgrade(req, server) : new Response("the app");
   * console.log("Bun.serve({ port: 8080, fetch, websocket: ws.websocket })", typeof fetch);
   * ```
   */
  upgrade(request: Request, server: BunServer<never>): Response | undefined | Promise<Response | undefined> {
    // Any Bun.serve's server, whatever `data` type it declares: the socket's data is polysocket's.
    return this.#handlers().fetch(request, server as unknown as BunServer<BunTransport>);
  }

  /**
   * `Bun.serve`'s `websocket` option. Its events reach whichever polysocket server
   * a socket belongs to, so several servers can share one `Bun.serve` (pass any
   * one's): then the Bun-level limits of the one passed apply to all
   * (`maxPayloadLength`, and `backpressureLimit` on native publish), while each
   * server's own checks (`maxPayload`, backpressure on `send`) still apply to its connections.
   */
  get websocket(): BunWebSocketHandler<unknown> {
    return this.#handlers().websocket as BunWebSocketHandler<unknown>;
  }

  #handlers(): BunHandlers {
    return this.mounted(bunHandlers);
  }
}
