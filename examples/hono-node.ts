/**
 * polysocket in a Hono app on Node, served by `@hono/node-server`: the app's
 * routes and a WebSocket echo on /ws share one port. Node hands upgrades to
 * the http server's `upgrade` event, never to Hono: `attachUpgrades` runs them
 * through the app, so `cors()` and `jwt()` apply to them as on Bun and Deno.
 *
 *   JWT_SECRET=dev-only PORT=3000 node --import tsx examples/hono-node.ts
 */
import { serve } from "@hono/node-server";
import { attachUpgrades } from "polysocket/hono";
import { Server } from "polysocket/node";
import { honoApp, MISSING_SECRET, wsOptions } from "./hono-app.ts";

const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error(`Hono app not started: ${MISSING_SECRET}`);
  process.exit(1);
}
const ws = new Server(wsOptions);
const app = honoApp(ws, "node", secret);

const http = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) =>
  console.log(`Hono app on http://localhost:${port}/, WebSocket on ws://localhost:${port}${ws.path}`),
);
http.once("error", (error) => {
  // The port is taken, say: one line, exit 1.
  console.error(`Hono app not started: ${error.message}`);
  process.exit(1);
});
attachUpgrades(http, app);

// WebSocket clients get 1001; then the HTTP server stops and the process exits 0.
process.once("SIGTERM", async () => {
  await ws.close();
  await new Promise((resolve) => http.close(resolve));
  process.exit(0);
});
