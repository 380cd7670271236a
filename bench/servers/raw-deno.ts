/**
 * The raw Deno baseline: `Deno.serve` + `Deno.upgradeWebSocket`, as a user would
 * write it without polysocket. Echo for `?echo`, otherwise a loop over every socket.
 * Deno's default liveness is kept (idleTimeout 30 s: a ping every 15 s): a user gets
 * it without asking, and polysocket's default heartbeat maps onto the same mechanism
 * (idleTimeout 40 s: a ping every 20 s).
 */
import { ready, wantsEcho } from "./control.ts";

const sockets = new Set<WebSocket>();

const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  const echo = wantsEcho(request.url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => sockets.add(socket);
  socket.onclose = () => sockets.delete(socket);
  socket.onmessage = ({ data }) => {
    if (echo) return socket.send(data);
    for (const client of sockets) {
      if (client.readyState === WebSocket.OPEN) client.send(data);
    }
  };
  return response;
});

ready(server.addr.port);
