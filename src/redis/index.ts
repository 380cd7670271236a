/**
 * `polysocket/redis`: rooms served by many processes (Node, Bun and Deno alike)
 * through Redis or Redis Cluster, on the `ioredis` client (an optional peer
 * dependency: `npm install ioredis`).
 *
 * One {@link RedisRoomStore} per process serves every room: one command
 * client and one subscriber connection (with Redis Cluster: one command
 * connection per master and one subscriber), and one heartbeat, whatever the
 * number of rooms. Give it to `Rooms` (or use {@link redisRooms}), or to
 * `ChatRoom.open` (or use {@link redisChatRoom}).
 *
 * A room's messages live in a Redis Stream, `polysocket:{room}:stream`, added
 * with the id `0-*`, so Redis numbers them 0-1, 0-2, 0-3… for every process:
 * the second half of the id *is* the message's `seq`. The script that adds an
 * entry checks the room's epoch (a Redis that came back empty refuses it
 * instead of numbering from 1 again), changes presence
 * (`polysocket:{room}:members`) and PUBLISHes the entry on the room's channel,
 * atomically; every process subscribed to the room hands it over, and fills
 * any gap (a lost publication, a reconnection) from the stream, so nothing is
 * lost or handed over twice. Every process beats in `polysocket:processes`
 * (Redis's clock); the members of a process silent for `deadAfter` ms are
 * announced gone in each room, once (whoever removes a member from the
 * room's hash stores its leave). See docs/redis.md.
 *
 * `redisRooms(options)` is `Rooms` on a store of its own (`rooms.close()`
 * closes both); `redisChatRoom(options)` one `ChatRoom`, as before:
 *
 * @example
 * ```ts
 * import { Server } from "polysocket";
 * import { redisChatRoom } from "polysocket/redis";
 * const room = await redisChatRoom({ url: "redis://localhost:6379", room: "lobby" });
 * const server = new Server({
 *   port: 8080,
 *   path: "/chat",
 *   validate: (conn, message) => room.validate(conn, message),
 *   onConnect: (conn) => room.addClient(conn),
 *   onMessage(conn, raw) {
 *     // Unwraps polysocket/client's frames and answers its pings; plain text passes as is.
 *     const message = room.receive(conn, raw);
 *     if (message === undefined) return;
 *     // Redis may refuse to store it: then nobody got it, so tell the sender.
 *     room.publish(`User ${conn.id}: ${message}`).catch((error) => room.notify(conn, `Message not delivered: ${error.message}`));
 *   },
 *   onDisconnect: (conn) => room.removeClient(conn),
 * });
 * await server.listen();
 * ```
 * @module
 */
export {
  type RedisBrokerOptions,
  type RedisChatRoomOptions,
  RedisRooms,
  type RedisRoomsOptions,
  redisChatRoom,
  redisRooms,
} from "./chat.ts";
export type { RedisClient, RedisRoomStoreOptions } from "./options.ts";
export { MIN_RETAINED, RedisConnectError, RedisRoomStore } from "./store.ts";
