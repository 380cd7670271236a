/**
 * polysocket in your own `Deno.serve` (Deno only): the app's routes and a
 * WebSocket echo on /ws share one port. The handler hands requests on /ws to
 * `ws.handler`, which returns the Response (the upgrade, or plain HTTP).
 *
 *   PORT=3000 deno run -A examples/deno-serve.ts
 */
import { Server } from "polysocket/deno";

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

let app: Deno.HttpServer;
try {
  app = Deno.serve(
    {
      port: Number(Deno.env.get("PORT") ?? 3000),
      onListen: ({ port }) =>
        console.log(
          `Deno.serve app on http://localhost:${port}/, WebSocket on ws://localhost:${port}${ws.path}`,
        ),
    },
    (req, info) => {
      const { pathname } = new URL(req.url);
      if (pathname === ws.path) return ws.handler(req, info);
      if (pathname === "/") return Response.json({ app: "deno", websocket: ws.path });
      return new Response("Not Found", { status: 404 });
    },
  );
} catch (error) {
  // The port is taken, say: one line, exit 1.
  console.error(`Deno.serve app not started: ${(error as Error).message}`);
  Deno.exit(1);
}

// WebSocket clients get 1001; then Deno.serve shuts down and the process exits 0.
Deno.addSignalListener("SIGTERM", async () => {
  await ws.close();
  await app.shutdown();
  Deno.exit(0);
});
