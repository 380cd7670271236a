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

export * from "../../core/index.ts";
export { denoAdapter };

/** A WebSocket server on Deno. */
export class Server extends BaseServer {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(denoAdapter);
  }
}
