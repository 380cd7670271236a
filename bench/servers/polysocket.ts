/**
 * The polysocket benchmark server, the same file on every runtime. Connections
 * with `?echo` in their URL get every message back; the others are a chat room:
 * every text message is broadcast to everyone, the sender included.
 * `POLYSOCKET_ADAPTER=node` pins the Node adapter (used to run it on Deno's Node layer).
 * Connections keep no upgrade headers, as in the raw servers, unless
 * `POLYSOCKET_KEEP_HEADERS=1` (`--keep-headers`) asks for polysocket's default.
 */
import type { Connection } from "polysocket";
import { ready, wantsEcho } from "./control.ts";

const { Server } =
  process.env.POLYSOCKET_ADAPTER === "node" ? await import("polysocket/node") : await import("polysocket");

const isEcho = (conn: Connection) => conn.data === true;

const server = new Server({
  port: 0,
  hostname: "127.0.0.1",
  path: "/",
  keepHeaders: process.env.POLYSOCKET_KEEP_HEADERS === "1",
  onConnect(conn) {
    conn.data = wantsEcho(conn.url);
  },
  onMessage(conn, message) {
    if (isEcho(conn)) conn.send(message);
    else server.broadcast(message);
  },
  onBinary(conn, data) {
    conn.send(data);
  },
  onError() {},
});

ready((await server.listen()).port);
