/**
 * Memory per idle room on the Redis store: 10,000 rooms opened in one
 * RedisRoomStore (one process, a throwaway Redis), each with one member and no
 * messages. Reports the process's heap and RSS growth per room (after a full
 * GC: run with `node --expose-gc --import tsx`), Redis's `used_memory` growth
 * per room, the time to open them, and the store's Redis connections.
 *
 * Run: `node --expose-gc --import tsx bench/redis-rooms-memory.ts [--rooms 10000]`.
 */
import type { RoomListener } from "../src/core/rooms/store.ts";
import { RedisRoomStore } from "../src/redis/index.ts";
import { TestRedis } from "../test/harness/redis.ts";

const at = process.argv.indexOf("--rooms");
const ROOMS = at >= 0 ? Number(process.argv[at + 1]) : 10_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const listener: RoomListener = {
  message() {},
  presence() {},
  orphaned() {},
  restarted() {},
  revived() {},
};
const usedMemory = async (redis: TestRedis) =>
  Number(/used_memory:(\d+)/.exec(String(await redis.inspect().info("memory")))![1]);
const settle = async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc!();
  gc!();
};

const redis = await TestRedis.start();
try {
  const store = await RedisRoomStore.connect({ url: redis.url, onError() {} });
  const limits = { historyLimit: 100, maxAge: undefined };
  await store.open("warm-up", limits, listener); // scripts loaded, connections up
  await settle();
  const before = { ...process.memoryUsage(), redis: await usedMemory(redis) };
  const started = performance.now();
  const batch = 500;
  for (let from = 0; from < ROOMS; from += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, ROOMS - from) }, async (_, i) => {
        const room = `idle-${from + i}`;
        await store.open(room, limits, listener);
        await store.append(room, undefined, { join: { id: `member-${from + i}`, info: "nick" } });
      }),
    );
  }
  const openMs = performance.now() - started;
  await settle();
  const after = { ...process.memoryUsage(), redis: await usedMemory(redis) };
  const list = String(await redis.inspect().client("LIST")).split("\n");
  const connections = list.filter((line) => line.includes(` name=polysocket:${store.process} `)).length;
  const per = (key: "heapUsed" | "rss" | "redis") => Math.round((after[key] - before[key]) / ROOMS);
  const result = {
    rooms: store.rooms - 1,
    openMs: Math.round(openMs),
    heapBytesPerRoom: per("heapUsed"),
    rssBytesPerRoom: per("rss"),
    redisBytesPerRoom: per("redis"),
    redisConnections: connections,
  };
  console.log(JSON.stringify(result));
  await store.close();
} finally {
  await redis.dispose();
}
