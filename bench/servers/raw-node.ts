/**
 * The raw Node baseline: a hand-written `ws` server, as a user would write it
 * without polysocket. Echo for `?echo`, otherwise a loop that sends to every client.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { ready, wantsEcho } from "./control.ts";

const http = createServer();
const wss = new WebSocketServer({ server: http });

wss.on("connection", (ws, request) => {
  const echo = wantsEcho(request.url ?? "");
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (echo) return ws.send(data, { binary: isBinary });
    for (const client of wss.clients) {
      if (client.readyState === 1) client.send(data, { binary: isBinary });
    }
  });
});

http.listen(0, "127.0.0.1", () => ready((http.address() as AddressInfo).port));
