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

export * from "../../core/index.ts";
export { bunAdapter };

/** A WebSocket server on Bun. */
export class Server extends BaseServer {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(bunAdapter);
  }
}
