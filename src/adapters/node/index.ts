/**
 * polysocket for Node.js (over the `ws` package): a server of its own with
 * `listen()`, or mounted into any `node:http`/`node:https` server with
 * `attach(httpServer)` or `handleUpgrade(req, socket, head)`.
 *
 * @example
 * ```ts
 * import { Server } from "polysocket/node";
 * const server = new Server({ port: 8080, path: "/chat", onMessage: (conn, msg) => void conn.send(msg) });
 * await server.listen();
 * ```
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Adapter } from "../../core/adapter.ts";
import { BaseServer } from "../../core/server.ts";
import { nodeAdapter } from "./adapter.ts";
import { type NodeHandlers, nodeHandlers, refuse } from "./handlers.ts";

export * from "../../core/index.ts";
export { nodeAdapter };

/** A `node:http` or `node:https` server (Express's `app.listen()`, Fastify's `fastify.server`, ...). */
export interface UpgradeHost {
  /** Adds a listener for upgrade requests. */
  on(event: "upgrade", listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  /** How many upgrade listeners the host has (none but polysocket's: 404 for other paths). */
  listenerCount(event: "upgrade"): number;
}

/** The polysocket servers attached to each host, tried in turn for every upgrade. */
const attached = new WeakMap<UpgradeHost, Set<Server>>();

/**
 * A WebSocket server on Node.js. `Data` types `conn.data`; `Format`, the `messages`
 * option (inferred from it), types the messages `onMessage` gets (docs/messages.md).
 */
export class Server<Data = unknown, Format = "text"> extends BaseServer<Data, Format> {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(nodeAdapter);
  }

  /**
   * Takes an upgrade request from any `node:http`/`node:https` server's `upgrade`
   * event if it is for this server's path (returns true), else leaves the socket
   * alone and returns false, for the host or another server to take. The host's
   * own settings apply to the request before this (e.g. `headersTimeout`).
   *
   * @example
   * ```ts run=no
   * import { createServer } from "node:http";
   * import { Server } from "polysocket/node";
   * const ws = new Server({ path: "/ws", onMessage: (conn, message) => void conn.send(message) });
   * const http = createServer((_req, res) => res.end("the app"));
   * http.on("upgrade", (req, socket, head) => {
   *   if (!ws.handleUpgrade(req, socket, head)) socket.destroy();
   * });
   * http.listen(8080);
   * ```
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.#handlers().upgrade(req, socket, head);
  }

  /**
   * Answers a plain HTTP request as a server of its own would (`onRequest`, else
   * 426 on the path, 404 elsewhere), for hosts that route one to polysocket.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#handlers().request(req, res);
  }

  /**
   * Serves WebSocket upgrades on this server's path of `host`; its plain requests
   * stay the host's. Several polysocket servers may attach to one host, on
   * different paths; an upgrade none of them takes is left to the host's other
   * `upgrade` listeners, or answered 404 when it has none. `close()` sends 1001
   * to this server's connections, answers later upgrades on its path with 503,
   * and never closes the host.
   */
  attach(host: UpgradeHost): this {
    this.#handlers();
    let servers = attached.get(host);
    if (!servers) {
      const mine = new Set<Server>();
      attached.set(host, mine);
      host.on("upgrade", (req, socket, head) => upgradeOn(host, mine, req, socket, head));
      servers = mine;
    }
    servers.add(this);
    return this;
  }

  #handlers(): NodeHandlers {
    // Closed, a server stays attached: upgrades on its path get 503, as on Bun and Deno.
    return this.mounted(nodeHandlers, (handlers) => handlers.close());
  }
}

const NOT_FOUND = { upgrade: false, status: 404, body: "Not Found" } as const;

function upgradeOn(
  host: UpgradeHost,
  servers: Set<Server>,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
) {
  for (const server of servers) if (server.handleUpgrade(req, socket, head)) return;
  // Ours is the host's only upgrade listener: nobody else will answer this request.
  if (host.listenerCount("upgrade") === 1) refuse(socket, NOT_FOUND);
}
