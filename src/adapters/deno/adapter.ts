/**
 * Deno adapter: a `Deno.serve` of polysocket's own, with the handler of
 * handlers.ts (the same one a mounted server hands to the user's).
 * @see https://docs.deno.com/api/deno/~/Deno.upgradeWebSocket
 */
import type { Adapter, Engine, Listener } from "../../core/adapter.ts";
import { denoHandler } from "./handlers.ts";
import type { DenoGlobal } from "./types.ts";

/** The Deno binding of polysocket. */
export const denoAdapter: Adapter = { runtime: "deno", listen };

async function listen(engine: Engine): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  const { limits } = engine;
  const options = { port: limits.port, hostname: limits.hostname, onListen() {} };
  const server = deno.serve(options, denoHandler(engine));
  return { port: server.addr.port ?? limits.port, stop: () => server.shutdown() };
}
