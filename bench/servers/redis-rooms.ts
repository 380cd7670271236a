/**
 * The Redis rooms benchmark server, the same file on every runtime: a
 * polysocket `Server` wired to `redisRooms` (one RedisRoomStore for every
 * room of this process) at `BENCH_REDIS_URL`, as docs/redis.md wires it, with a
 * short history (`historyLimit` 10). Prints `{"port":…,"process":…}` once it
 * listens (the store's process id names its Redis connections in CLIENT LIST).
 */
import { Server } from "../../src/index.ts";
import { redisRooms } from "../../src/redis/index.ts";

const rooms = await redisRooms({ url: process.env.BENCH_REDIS_URL, historyLimit: 10, onError() {} });

const server = new Server({
  port: 0,
  hostname: "127.0.0.1",
  path: "/",
  onConnect: (conn) => rooms.accept(conn),
  onMessage: (conn, message) => void rooms.receive(conn, message),
  onDisconnect: (conn) => rooms.drop(conn),
  onError() {},
});

const { port } = await server.listen();
console.log(JSON.stringify({ port, process: rooms.store.process }));
