/**
 * The chat-room benchmark server, the same file on every runtime: a polysocket
 * `ChatRoom` (plain protocol, no history) in this process, or, with
 * `BENCH_REDIS_URL` set, one shared through Redis (`polysocket/redis`, room
 * `BENCH_ROOM`) with the other processes of the measurement. Every text message
 * is broadcast unchanged to every member, the sender included.
 */
import { ChatRoom, Server } from "polysocket";
import { ready } from "./control.ts";

const url = process.env.BENCH_REDIS_URL;
const room = url
  ? await (await import("polysocket/redis")).redisChatRoom({
      url,
      room: process.env.BENCH_ROOM ?? "bench",
      historyLimit: 0,
    })
  : new ChatRoom({ historyLimit: 0 });

const server = new Server({
  port: 0,
  hostname: "127.0.0.1",
  path: "/",
  onConnect: (conn) => room.addClient(conn),
  onMessage: (_conn, message) => room.broadcast(message),
  onDisconnect: (conn) => room.removeClient(conn),
  onError() {},
});

ready((await server.listen()).port);
