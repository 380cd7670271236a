/**
 * polysocket for Node.js (over the `ws` package).
 *
 * @example
 * ```ts
 * import { Server } from "polysocket/node";
 * const server = new Server({ port: 8080, path: "/chat", onMessage: (conn, msg) => void conn.send(msg) });
 * await server.listen();
 * ```
 * @module
 */
import type { Adapter } from "../../core/adapter.ts";
import { BaseServer } from "../../core/server.ts";
import { nodeAdapter } from "./adapter.ts";

export * from "../../core/index.ts";
export { nodeAdapter };

/** A WebSocket server on Node.js. */
export class Server extends BaseServer {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(nodeAdapter);
  }
}
