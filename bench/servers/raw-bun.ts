/**
 * The raw Bun baseline: `Bun.serve` with native publish, as a user would write it
 * without polysocket. Echo for `?echo`, otherwise `server.publish` to everyone.
 * Same websocket settings as polysocket's adapter (no idle timeout, no pings).
 */
import { ready, wantsEcho } from "./control.ts";

const TOPIC = "all";

const server = Bun.serve<{ echo: boolean }>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request, server) {
    if (server.upgrade(request, { data: { echo: wantsEcho(request.url) } })) return undefined;
    return new Response("Upgrade Required", { status: 426 });
  },
  websocket: {
    open(ws) {
      if (!ws.data.echo) ws.subscribe(TOPIC);
    },
    message(ws, message) {
      if (ws.data.echo) ws.send(message);
      else server.publish(TOPIC, message);
    },
    idleTimeout: 0,
    sendPings: false,
  },
});

ready(server.port ?? 0);
