/**
 * polysocket in your own `Bun.serve` (Bun only): the app's routes and a
 * WebSocket echo on /ws share one port. `fetch` hands requests on /ws to
 * `ws.upgrade`, and `ws.websocket` is the `websocket` option.
 *
 *   PORT=3000 bun examples/bun-serve.ts
 */
import { Server } from "polysocket/bun";

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

// Bun.serve, not polysocket, owns HTTP here: its idleTimeout (default 10 s) also bounds an upgrade request.
let app: ReturnType<typeof Bun.serve>;
try {
  app = Bun.serve({
    port: Number(process.env.PORT ?? 3000),
    fetch(req, server) {
      const { pathname } = new URL(req.url);
      if (pathname === ws.path) return ws.upgrade(req, server);
      if (pathname === "/") return Response.json({ app: "bun", websocket: ws.path });
      return new Response("Not Found", { status: 404 });
    },
    websocket: ws.websocket,
  });
} catch (error) {
  // The port is taken, say: one line, exit 1.
  console.error(`Bun.serve app not started: ${(error as Error).message}`);
  process.exit(1);
}
console.log(
  `Bun.serve app on http://localhost:${app.port}/, WebSocket on ws://localhost:${app.port}${ws.path}`,
);

// WebSocket clients get 1001; then Bun.serve stops and the process exits 0.
process.once("SIGTERM", async () => {
  await ws.close();
  await app.stop();
  process.exit(0);
});
