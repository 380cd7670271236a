/**
 * polysocket: one WebSocket server contract for Node.js, Bun and Deno.
 * This entry point picks the running runtime's adapter by itself, so the
 * same code runs unchanged everywhere.
 *
 * @example
 * ```ts
 * import { ChatRoom, Server } from "polysocket";
 * const room = new ChatRoom();
 * const server = new Server({
 *   port: 8080,
 *   path: "/chat",
 *   validate: (conn, message) => room.validate(conn, message),
 *   onConnect: (conn) => room.addClient(conn),
 *   onMessage(conn, raw) {
 *     // Unwraps polysocket/client's frames and answers its pings; plain text passes as is.
 *     const message = room.receive(conn, raw);
 *     if (message !== undefined) room.broadcast(`User ${conn.id}: ${message}`);
 *   },
 *   onDisconnect: (conn) => room.removeClient(conn),
 * });
 * await server.listen();
 * ```
 * @module
 */
import type { Adapter } from "./core/adapter.ts";
import { detectRuntime } from "./core/runtime.ts";
import { BaseServer } from "./core/server.ts";

export * from "./core/index.ts";

/**
 * A WebSocket server on whichever runtime runs this code. `Data` types `conn.data`; `Format`, the `messages`
 * option (inferred from it), types the messages `onMessage` gets (docs/messages.md).
 */
export class Server<Data = unknown, Format = "text"> extends BaseServer<Data, Format> {
  /** The runtime binding this entry point uses. */
  protected override loadAdapter(): Promise<Adapter> {
    return loadRuntimeAdapter();
  }
}

/** Imports only the running runtime's adapter, so `ws` is never loaded on Bun or Deno. */
async function loadRuntimeAdapter(): Promise<Adapter> {
  switch (detectRuntime()) {
    case "bun":
      return (await import("./adapters/bun/adapter.ts")).bunAdapter;
    case "deno":
      return (await import("./adapters/deno/adapter.ts")).denoAdapter;
    default:
      return (await import("./adapters/node/adapter.ts")).nodeAdapter;
  }
}
