/**
 * Node.js adapter: a `node:http` server of polysocket's own (`node:https` with
 * the `tls` option), with the handlers of handlers.ts on it (the same ones a
 * mounted server hands to the user's).
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Adapter, Engine, EngineLimits, Listener } from "../../core/adapter.ts";
import { type NodeHandlers, nodeHandlers, refuse } from "./handlers.ts";

/** The Node.js binding of polysocket, over `ws`. */
export const nodeAdapter: Adapter = { runtime: "node", listen };

const NOT_FOUND = { upgrade: false, status: 404, body: "Not Found" } as const;

async function listen(engine: Engine): Promise<Listener> {
  const handlers = nodeHandlers(engine);
  const http = serve(engine.limits, handlers.request);
  http.on("upgrade", (req, socket, head) => {
    if (!handlers.upgrade(req, socket, head)) refuse(socket, NOT_FOUND);
  });
  await bindPort(http, engine.limits.port, engine.limits.hostname);
  http.on("error", (error) => engine.error(error));
  return { port: (http.address() as AddressInfo).port, stop: () => stop(http, handlers) };
}

/** `node:https` with the `tls` option (the same request and upgrade events), else `node:http`. */
function serve(limits: EngineLimits, request: NodeHandlers["request"]): Server {
  const { tls } = limits;
  if (!tls) return createServer(httpLimits(limits), request);
  // tls.Server's own handshakeTimeout (default 120 s) covers a client that connects and never
  // finishes the TLS handshake: node:http's timeouts only start once it has.
  const options = { ...httpLimits(limits), ...tls, handshakeTimeout: limits.handshakeTimeout };
  // An https.Server is an http.Server with TLS in front; its types only lack that lineage.
  const server = createTlsServer(options, request) as unknown as Server;
  checkKeyPair(tls);
  return server;
}

/**
 * Node's createServer throws for a key it cannot decrypt or one of another certificate;
 * Deno's node:https accepts both and fails every handshake instead. Checked here, so that
 * `listen()` rejects on every runtime.
 */
function checkKeyPair(tls: NonNullable<EngineLimits["tls"]>): void {
  const key = createPrivateKey({ key: tls.key, passphrase: tls.passphrase }); // throws "bad decrypt"
  if (!new X509Certificate(tls.cert).checkPrivateKey(key)) {
    throw new Error("the private key does not match the certificate (key values mismatch)");
  }
}

/**
 * A connection that has not sent its request headers within the handshake timeout
 * gets 408 and is closed (node:http tracks it from accept, so also one that never sends a byte).
 */
function httpLimits(limits: EngineLimits) {
  const timeout = limits.handshakeTimeout;
  return {
    headersTimeout: timeout,
    requestTimeout: timeout,
    connectionsCheckingInterval: Math.min(timeout, 1000),
  };
}

function bindPort(http: Server, port: number, hostname: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, hostname, () => {
      http.off("error", reject);
      resolve();
    });
  });
}

/** Every connection was closed or dropped by the server's shutdown before this runs. */
function stop(http: Server, handlers: NodeHandlers): Promise<void> {
  handlers.close();
  http.closeAllConnections();
  return new Promise((resolve) => http.close(() => resolve()));
}
