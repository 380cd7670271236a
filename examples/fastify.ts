/**
 * polysocket in a Fastify 5 app: the app's routes and a WebSocket echo on /ws
 * share one port. `fastify.server` (the `node:http` server) exists before
 * `listen()`, so `attach` can come first; Fastify forwards the upgrades of every
 * address it binds to that server. Fastify's hooks never see an upgrade: check
 * who may connect in `onUpgrade`.
 *
 *   PORT=3000 node --import tsx examples/fastify.ts
 */
import Fastify from "fastify";
import { Server } from "polysocket/node";

const ws = new Server({
  path: "/ws",
  // Behind a reverse proxy, remoteAddress is the proxy's: keep the client's from its header.
  onUpgrade: (req) => ({ data: { forwardedFor: req.header("x-forwarded-for") } }),
  onMessage(conn, message) {
    if (message === "/whoami") {
      return void conn.send(
        JSON.stringify({ id: conn.id, remoteAddress: conn.remoteAddress, ...(conn.data as object) }),
      );
    }
    conn.send(message);
  },
});

const app = Fastify();
app.get("/", async () => ({ app: "fastify", websocket: ws.path }));
ws.attach(app.server);

try {
  await app.listen({ port: Number(process.env.PORT ?? 3000) });
} catch (error) {
  console.error(`Fastify app not started: ${(error as Error).message}`);
  process.exit(1);
}
const { port } = app.server.address() as { port: number };
console.log(`Fastify app on http://localhost:${port}/, WebSocket on ws://localhost:${port}${ws.path}`);

// WebSocket clients get 1001; then Fastify closes and the process exits 0.
process.once("SIGTERM", async () => {
  await ws.close();
  await app.close();
  process.exit(0);
});
