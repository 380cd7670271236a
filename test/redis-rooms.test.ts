/**
 * `polysocket/redis`'s RedisRoomStore: the store contract (test/store-suite.ts)
 * on a real Redis, then what only a shared store does: connections per
 * process, dead processes, Redis restarting empty, processes of every runtime
 * on one Redis, and a real three-master Redis Cluster. Skips with one line
 * without Redis, fails instead when CI requires it (POLYSOCKET_REQUIRE_REDIS=1).
 */
import { afterAll, beforeAll, describe } from "vitest";
import { RedisRoomStore } from "../src/redis/index.ts";
import { redisUnavailable, TestRedis } from "./harness/redis.ts";
import { storeSuite } from "./store-suite.ts";

const unavailable = redisUnavailable();
if (unavailable) console.log(`Redis room store tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("[redis-store] RedisRoomStore", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(() => redis?.dispose());

  storeSuite("redis", () => ({
    open: () => RedisRoomStore.connect({ url: redis.url, onError: () => undefined }),
    shared: true,
  }));
});
