/**
 * polysocket in a Hono app on Bun: the app's routes and a WebSocket echo on
 * /ws share one port. Hono's `fetch` gets the Bun server as `c.env`, which
 * `upgradeWebSocket` upgrades with; `ws.websocket` is `Bun.serve`'s `websocket`.
 *
 *   JWT_SECRET=dev-only PORT=3000 bun examples/hono-bun.ts
 */
import { Server } from "polysocket/bun";
import { honoApp, MISSING_SECRET, wsOptions } from "./hono-app.ts";

const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error(`Hono app not started: ${MISSING_SECRET}`);
  process.exit(1);
}
const ws = new Server(wsOptions);
const app = honoApp(ws, "bun", secret);

let http: ReturnType<typeof Bun.serve>;
try {
  http = Bun.serve({ port: Number(process.env.PORT ?? 3000), fetch: app.fetch, websocket: ws.websocket });
} catch (error) {
  // The port is taken, say: one line, exit 1.
  console.error(`Hono app not started: ${(error as Error).message}`);
  process.exit(1);
}
console.log(`Hono app on http://localhost:${http.port}/, WebSocket on ws://localhost:${http.port}${ws.path}`);

// WebSocket clients get 1001; then Bun.serve stops and the process exits 0.
process.once("SIGTERM", async () => {
  await ws.close();
  await http.stop();
  process.exit(0);
});
