/**
 * polysocket in a Hono app on Deno: the app's routes and a WebSocket echo on
 * /ws share one port. Hono's `fetch` gets `Deno.serve`'s info as `c.env`, which
 * `upgradeWebSocket` hands to polysocket with the request; `fetchWithUpgrades`
 * answers an upgrade with Deno's own response (needed on Deno 2.0 to 2.5).
 *
 *   JWT_SECRET=dev-only PORT=3000 deno run -A examples/hono-deno.ts
 */
import { Server } from "polysocket/deno";
import { fetchWithUpgrades } from "polysocket/hono";
import { honoApp, MISSING_SECRET, wsOptions } from "./hono-app.ts";

const secret = Deno.env.get("JWT_SECRET");
if (!secret) {
  console.error(`Hono app not started: ${MISSING_SECRET}`);
  Deno.exit(1);
}
const ws = new Server(wsOptions);
const app = honoApp(ws, "deno", secret);

let http: Deno.HttpServer;
try {
  http = Deno.serve(
    {
      port: Number(Deno.env.get("PORT") ?? 3000),
      onListen: ({ port }) =>
        console.log(`Hono app on http://localhost:${port}/, WebSocket on ws://localhost:${port}${ws.path}`),
    },
    // Deno 2.0 to 2.5 upgrade only with their own response, which cors() would have copied.
    fetchWithUpgrades(app),
  );
} catch (error) {
  // The port is taken, say: one line, exit 1.
  console.error(`Hono app not started: ${(error as Error).message}`);
  Deno.exit(1);
}

// WebSocket clients get 1001; then Deno.serve shuts down and the process exits 0.
Deno.addSignalListener("SIGTERM", async () => {
  await ws.close();
  await http.shutdown();
  Deno.exit(0);
});
