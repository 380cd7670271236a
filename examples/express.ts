/**
 * polysocket in an Express 5 app: the app's routes and a WebSocket echo on
 * /ws share one port. `app.listen()` returns the `node:http` server, and
 * `attach` takes its upgrades on /ws (Express middleware never sees an upgrade:
 * check who may connect in `onUpgrade`).
 *
 *   PORT=3000 node --import tsx examples/express.ts
 */
import express from "express";
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

const app = express();
app.get("/", (_req, res) => {
  res.json({ app: "express", websocket: ws.path });
});

const http = app.listen(Number(process.env.PORT ?? 3000), (error) => {
  if (error) {
    console.error(`Express app not started: ${error.message}`);
    process.exit(1);
  }
  const { port } = http.address() as { port: number };
  console.log(`Express app on http://localhost:${port}/, WebSocket on ws://localhost:${port}${ws.path}`);
});
ws.attach(http);

// WebSocket clients get 1001; then the HTTP server stops and the process exits 0.
process.once("SIGTERM", async () => {
  await ws.close();
  await new Promise((resolve) => http.close(resolve));
  process.exit(0);
});
