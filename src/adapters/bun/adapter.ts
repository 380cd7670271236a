/**
 * Bun adapter: a `Bun.serve` of polysocket's own, with the handlers of
 * handlers.ts on it (the same ones a mounted server hands to the user's); the
 * core's groups (topics, broadcast, rooms) are Bun's native topics.
 * @see https://bun.sh/docs/api/websockets
 */
import type { Adapter, Engine, Listener } from "../../core/adapter.ts";
import { type BunTransport, bunHandlers } from "./handlers.ts";
import type { BunGlobal } from "./types.ts";

/** The Bun binding of polysocket. */
export const bunAdapter: Adapter = { runtime: "bun", listen };

async function listen(engine: Engine): Promise<Listener> {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const { limits } = engine;
  const handlers = bunHandlers(engine);
  const server = bun.serve<BunTransport>({
    port: limits.port,
    hostname: limits.hostname,
    // Bun.serve has no header-read timeout. A connection whose first request never finishes its
    // headers (or that never sends a byte) is closed by Bun's own fixed 10 s, swept every 4 s
    // (8-12 s after connecting), whatever is set here (bun PR #33061: "Bun.serve sockets keep the
    // legacy 10s pre-request timeout"). What `handshakeTimeout` can reach is Bun's idle timeout,
    // which applies once a request has arrived: a later request that stalls on a kept-alive
    // connection, a kept-alive connection left silent, a pending onUpgrade. Whole seconds, max 255,
    // on the same 4 s sweep (docs/runtimes.md).
    idleTimeout: Math.min(255, Math.ceil(limits.handshakeTimeout / 1000)),
    ...(limits.tls ? { tls: limits.tls } : {}),
    fetch: handlers.fetch,
    websocket: handlers.websocket,
  });
  return { port: server.port ?? limits.port, stop: () => server.stop(true) };
}
