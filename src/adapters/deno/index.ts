/**
 * polysocket for Deno (over `Deno.serve` and `Deno.upgradeWebSocket`).
 *
 * @example
 * ```ts
 * import { Server } from "polysocket/deno";
 * const server = new Server({ port: 8080, path: "/chat", onMessage: (conn, msg) => void conn.send(msg) });
 * await server.listen();
 * ```
 * @module
 */
import type { Adapter } from "../../core/adapter.ts";
import { BaseServer } from "../../core/server.ts";
import { denoAdapter } from "./adapter.ts";
import { type DenoHandler, denoHandler } from "./handlers.ts";
import type { DenoServeInfo } from "./types.ts";

export * from "../../core/index.ts";
export type { DenoHandler, DenoServeInfo };
export { denoAdapter };

/**
 * A WebSocket server on Deno. `Data` types `conn.data`; `Format`, the `messages`
 * option (inferred from it), types the messages `onMessage` gets (docs/messages.md).
 */
export class Server<Data = unknown, Format = "text"> extends BaseServer<Data, Format> {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(denoAdapter);
  }

  /**
   * A `Deno.serve` handler for this server, usable inside any handler or fetch
   * router: an upgrade on this server's path becomes a connection; anything else
   * gets the answer a server of its own would give (`onRequest`, 426, 404). Bound:
   * pass it as it is.
   *
   * @example
   * ```ts
   * /// <reference lib="deno.ns" />
   * import { Server } from "polysocket/deno";
   * const ws = new Server({ path: "/ws", onMessage: (conn, message) => void conn.send(message) });
   * Deno.serve({ port: 8080 }, (req, info) =>
   *   new URL(req.url).pathname === ws.path ? ws.handler(req, info) : new Response("the app"),
   * );
   * ```
   */
  readonly handler: DenoHandler = (request, info) => this.mounted(denoHandler)(request, info);
}
