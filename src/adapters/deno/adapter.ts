/**
 * Deno adapter: a `Deno.serve` of polysocket's own, with the handler of
 * handlers.ts (the same one a mounted server hands to the user's).
 * @see https://docs.deno.com/api/deno/~/Deno.upgradeWebSocket
 */
import type { Adapter, Engine, EngineLimits, Listener } from "../../core/adapter.ts";
import { denoHandler } from "./handlers.ts";
import type { DenoGlobal, DenoServeOptions } from "./types.ts";

/** The Deno binding of polysocket. */
export const denoAdapter: Adapter = { runtime: "deno", listen };

async function listen(engine: Engine): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  const { limits } = engine;
  const options = { port: limits.port, hostname: limits.hostname, onListen() {}, ...(await tls(limits)) };
  const server = deno.serve(options, denoHandler(engine));
  return { port: server.addr.port ?? limits.port, stop: () => server.shutdown() };
}

/**
 * `Deno.serve` takes one PEM chain and a plain key: `ca` goes after the certificate
 * (where Node and Bun send it too), and an encrypted key is decrypted first, with
 * Deno's node:crypto, since Deno.serve has no passphrase.
 */
async function tls(limits: EngineLimits): Promise<Pick<DenoServeOptions, "cert" | "key">> {
  const { tls } = limits;
  if (!tls) return {};
  const cert = tls.ca === undefined ? tls.cert : `${tls.cert.trimEnd()}\n${tls.ca}`;
  if (tls.passphrase === undefined) return { cert, key: tls.key };
  const { createPrivateKey } = await import("node:crypto");
  const key = createPrivateKey({ key: tls.key, passphrase: tls.passphrase });
  return { cert, key: key.export({ format: "pem", type: "pkcs8" }) as string };
}
