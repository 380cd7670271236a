/**
 * `polysocket/redis`'s RedisRoomStore: the store contract (test/store-suite.ts)
 * on a real Redis, then what only a shared store does: connections per
 * process, dead processes, Redis restarting empty, stores in Node, Bun and Deno
 * processes on one Redis, and all of it on a real Redis Cluster of three masters.
 * Skips with one line without Redis, fails instead when CI requires it
 * (POLYSOCKET_REQUIRE_REDIS=1).
 */
import { Buffer } from "node:buffer";
import { Cluster } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { RoomStore } from "../src/core/rooms/store.ts";
import { RedisRoomStore, redisChatRoom, redisRooms } from "../src/redis/index.ts";
import { roomKeys } from "../src/redis/keys.ts";
import { TestClient } from "./harness/client.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { clusterUnavailable, redisUnavailable, TestRedis, TestRedisCluster } from "./harness/redis.ts";
import { RUNTIMES, type Runtime } from "./harness/runtimes.ts";
import { freshRoom, RecordingListener, storeSuite, until as until_ } from "./store-suite.ts";

const unavailable = redisUnavailable();
if (unavailable) console.log(`Redis room store tests skipped: ${unavailable}`);
const noCluster = clusterUnavailable();
if (noCluster) console.log(`Redis Cluster tests skipped: ${noCluster}`);

const LIMITS = { historyLimit: 100, maxAge: undefined };

/** Three full heartbeats by the wall clock (a timer may fire a millisecond early by `Date.now`). */
async function threeBeats(interval: number): Promise<void> {
  const until = Date.now() + 3 * interval;
  while (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, until - Date.now() + 1));
}
const quiet = () => undefined;

/** What the fixture prints (test/fixtures/redis-store.ts). */
type Event = {
  ev: string;
  room?: string;
  seq?: number;
  data?: unknown;
  bytes?: string;
  [key: string]: unknown;
};

/** A RedisRoomStore in a process of `runtime` (test/fixtures/redis-store.ts), driven over stdin. */
class StoreProcess {
  readonly process: RuntimeProcess;
  #ids = 0;
  private constructor(process: RuntimeProcess) {
    this.process = process;
  }

  static async start(runtime: Runtime, env: Record<string, string>): Promise<StoreProcess> {
    const child = new StoreProcess(new RuntimeProcess(runtime, "test/fixtures/redis-store.ts", env));
    await child.until((e) => e.ev === "ready", `the ${runtime} store ready`);
    return child;
  }

  get events(): Event[] {
    return this.process.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Event);
  }

  /** The store's process id (in presence and the heartbeat set). */
  get id(): string {
    return this.events.find((e) => e.ev === "ready")!.process as string;
  }

  until(match: (event: Event) => boolean, what: string): Promise<Event> {
    return this.process.waitUntil(() => this.events.find(match), what);
  }

  /** Messages heard in `room`, in order. */
  messages(room: string): Event[] {
    return this.events.filter((e) => e.ev === "message" && e.room === room);
  }

  async open(room: string): Promise<Event> {
    this.process.writeLine(JSON.stringify({ op: "open", room }));
    return this.until((e) => e.ev === "opened" && e.room === room, `room ${room} opened`);
  }

  /** Appends and resolves with the seq (throws what the store threw). */
  async append(
    room: string,
    payload: { data?: unknown; bytes?: string },
    change: object = {},
  ): Promise<number> {
    const id = ++this.#ids;
    this.process.writeLine(JSON.stringify({ op: "append", id, room, ...payload, ...change }));
    const done = await this.until(
      (e) => (e.ev === "appended" || e.ev === "failed") && e.id === id,
      `append ${id}`,
    );
    if (done.ev === "failed") throw new Error(String(done.error));
    return done.seq as number;
  }
}

describe.skipIf(unavailable !== undefined)("[redis-store] RedisRoomStore", () => {
  let redis: TestRedis;
  const children: RuntimeProcess[] = [];
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.stop("SIGKILL")));
  });
  afterAll(() => redis?.dispose());

  storeSuite("redis", () => ({
    open: () => RedisRoomStore.connect({ url: redis.url, onError: quiet }),
    shared: true,
  }));

  test("bad options are TypeErrors before any connection: unknown names (with the closest), a prefix with braces, timings", async () => {
    const bad = (options: object) => RedisRoomStore.connect({ url: redis.url, ...options } as never);
    await expect(bad({ prefx: "p" })).rejects.toThrow(
      new TypeError(
        "options.prefx is not an option (did you mean prefix?); known: url, redis, prefix, heartbeatInterval, deadAfter, onError, metrics",
      ),
    );
    await expect(bad({ prefix: "a{b}" })).rejects.toThrow(
      /options.prefix must be a non-empty string without braces/,
    );
    await expect(bad({ heartbeatInterval: 0 })).rejects.toThrow(
      /options.heartbeatInterval must be a positive number/,
    );
    await expect(bad({ heartbeatInterval: 1000, deadAfter: 500 })).rejects.toThrow(
      /options.deadAfter must be .* longer/,
    );
    await expect(bad({ redis: 5 })).rejects.toThrow(TypeError);
    const store = await RedisRoomStore.connect({ url: redis.url, onError: quiet });
    try {
      await expect(
        store.open("r", { historyLimit: -1, maxAge: undefined }, new RecordingListener()),
      ).rejects.toThrow(/historyLimit must be a non-negative integer/);
      await expect(store.open(5 as never, LIMITS, new RecordingListener())).rejects.toThrow(TypeError);
    } finally {
      await store.close();
    }
  });

  test("redisChatRoom and redisRooms: their own options checked too; close() closes their store's connections", async () => {
    await expect(redisChatRoom({ url: redis.url, rom: "x" } as never)).rejects.toThrow(
      /options.rom is not an option \(did you mean room\?\)/,
    );
    await expect(redisRooms({ url: redis.url, historyLimit: -1 })).rejects.toThrow(
      /options.historyLimit must be an integer >= 0/,
    );
    const names = async () =>
      String(await redis.inspect().client("LIST"))
        .split("\n")
        .filter((line) => / name=polysocket:/.test(line)).length;
    const before = await names();
    const rooms = await redisRooms({ url: redis.url, onError: quiet });
    const chat = await redisChatRoom({ url: redis.url, room: freshRoom("chat"), onError: quiet });
    expect(await names()).toBe(before + 4);
    await rooms.close();
    await chat.close();
    await until_(async () => (await names()) === before, "the four connections closed");
  });

  test("Redis unreachable: connect rejects with where and why", async () => {
    const error = await RedisRoomStore.connect({ url: "redis://127.0.0.1:1", onError: quiet }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ name: "RedisConnectError", where: "127.0.0.1:1" });
    expect(error.message).toBe("cannot connect to Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1");
  });

  test("100 rooms open in one store: Redis sees 2 connections from it (commands and subscriber), and every room works", async () => {
    const store = await RedisRoomStore.connect({ url: redis.url, onError: quiet });
    try {
      const names = Array.from({ length: 100 }, (_, n) => freshRoom(`many-${n}`));
      const listeners = names.map(() => new RecordingListener());
      await Promise.all(names.map((name, n) => store.open(name, LIMITS, listeners[n]!)));
      expect(store.rooms).toBe(100);
      const list = await redis.inspect().client("LIST");
      const mine = String(list)
        .split("\n")
        .filter((line) => line.includes(` name=polysocket:${store.process} `));
      expect(mine, `CLIENT LIST:\n${list}`).toHaveLength(2);
      expect(
        mine.filter((line) => / flags=P /.test(line)),
        "one of them the subscriber",
      ).toHaveLength(1);
      await Promise.all(names.map((name, n) => store.append(name, `to ${n}`)));
      await Promise.all(listeners.map((l) => l.untilMessages(1)));
      expect(listeners.map((l) => l.messages[0]!.data)).toEqual(names.map((_, n) => `to ${n}`));
    } finally {
      await store.close();
    }
  });

  test("metrics: each append's time to Redis's answer, the reader's lag per message, and a reader reconnection", async () => {
    const seen = { published: [] as number[], read: [] as number[], reconnects: 0 };
    const metrics = {
      storePublished: (s: number) => void seen.published.push(s),
      storeRead: (s: number) => void seen.read.push(s),
      storeReconnected: () => void seen.reconnects++,
    };
    const a = await RedisRoomStore.connect({ url: redis.url, onError: quiet, metrics });
    try {
      const room = freshRoom("metrics");
      const heard = new RecordingListener();
      await a.open(room, LIMITS, heard);
      for (let n = 0; n < 5; n++) await a.append(room, `m${n}`);
      await heard.untilMessages(5);
      expect(seen.published, "one time per append").toHaveLength(5);
      expect(seen.read, "one lag per message read").toHaveLength(5);
      // Loopback: each takes more than nothing and well under a second (both bounds hold on a loaded machine).
      for (const s of [...seen.published, ...seen.read]) {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(1);
      }
      expect(
        seen.published.some((s) => s > 0),
        "Redis answers take some time",
      ).toBe(true);
      expect(seen.reconnects, "no reconnection yet").toBe(0);
      await redis.inspect().call("CLIENT", "KILL", "TYPE", "pubsub");
      await until_(() => seen.reconnects === 1, "the reader's reconnection counted");
      await a.append(room, "after");
      await heard.untilMessages(6);
      expect(seen.reconnects).toBe(1);
    } finally {
      await a.close();
    }
  });

  test("the subscriber connections cut mid-stream: messages and presence-only changes heard once each, in order, after the reconnection", async () => {
    const a = await RedisRoomStore.connect({ url: redis.url, onError: quiet });
    const b = await RedisRoomStore.connect({ url: redis.url, onError: quiet });
    try {
      const room = freshRoom("cut");
      const heard = new RecordingListener();
      await a.open(room, LIMITS, new RecordingListener());
      await b.open(room, LIMITS, heard);
      const appends: Promise<number>[] = [];
      for (let n = 0; n < 30; n++) {
        if (n === 10) {
          const killed = await redis.inspect().call("CLIENT", "KILL", "TYPE", "pubsub");
          expect(Number(killed), "both subscribers cut").toBe(2);
        }
        appends.push(a.append(room, `m${n}`));
        if (n % 3 === 0) appends.push(a.append(room, undefined, { join: { id: `p${n}`, info: n } }));
      }
      await Promise.all(appends);
      await heard.untilMessages(30);
      await heard.until((h) => h.filter((x) => x.kind === "presence").length >= 10, "10 joins");
      expect(heard.messages.map((e) => e.data)).toEqual(Array.from({ length: 30 }, (_, n) => `m${n}`));
      expect(heard.messages.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, n) => n + 1));
      const joins = heard.heard.flatMap((h) =>
        h.kind === "presence" && h.change.join ? [h.change.join.id] : [],
      );
      expect([...joins].sort()).toEqual(Array.from({ length: 10 }, (_, k) => `p${k * 3}`).sort());
      expect(heard.heard.filter((h) => h.kind === "presence" && h.change.leave !== undefined)).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a store killed without closing: its members in every room are orphaned (at most once per survivor), each leave stored once and heard once by both", async () => {
    const timing = { heartbeatInterval: 200, deadAfter: 1000 };
    const env = { REDIS_URL: redis.url, HEARTBEAT_INTERVAL: "200", DEAD_AFTER: "1000" };
    const victim = await StoreProcess.start("node", env);
    children.push(victim.process);
    const survivors = await Promise.all(
      [0, 1].map(() => RedisRoomStore.connect({ url: redis.url, onError: quiet, ...timing })),
    );
    try {
      const rooms = [freshRoom("kill-a"), freshRoom("kill-b"), freshRoom("kill-c")];
      for (const [n, room] of rooms.entries()) {
        await victim.open(room);
        await victim.append(
          room,
          { data: `v${n} joined` },
          { join: { id: `v${n}`, info: { nick: `v${n}` } } },
        );
      }
      // Survivor 0 serves every room, survivor 1 the first two: both see the victim's members.
      // Each announces, as a Room does, every member it is told of: whoever removes it stores its leave.
      const stored: Promise<number>[] = [];
      const heard = survivors.map(() => new Map<string, RecordingListener>());
      for (const [s, store] of survivors.entries()) {
        for (const room of rooms.slice(0, s === 0 ? 3 : 2)) {
          const listener = new RecordingListener();
          const record = listener.orphaned.bind(listener);
          listener.orphaned = (members) => {
            record(members);
            for (const m of members) stored.push(store.append(room, `${m.id} left`, { leave: m.id }));
          };
          heard[s]!.set(room, listener);
          const snapshot = await store.open(room, LIMITS, listener);
          const n = rooms.indexOf(room);
          expect(snapshot.online).toEqual([{ id: `v${n}`, info: { nick: `v${n}` } }]);
        }
      }
      const killedAt = Date.now();
      await victim.process.stop("SIGKILL");
      const orphaned = (l: RecordingListener) => l.heard.filter((h) => h.kind === "orphaned");
      const left = (l: RecordingListener, n: number) => l.messages.filter((e) => e.data === `v${n} left`);
      await Promise.all(
        heard.flatMap((served, s) =>
          [...served].map(([room, listener]) =>
            listener.until(
              () => left(listener, rooms.indexOf(room)).length > 0,
              `the leave in ${room} (survivor ${s})`,
            ),
          ),
        ),
      );
      const elapsed = Date.now() - killedAt;
      // Dead after 1 s without a beat (the last one at most 200 ms before the kill), noticed within a beat or two.
      expect(elapsed).toBeGreaterThanOrEqual(700);
      expect(elapsed).toBeLessThan(3000);
      const seqs = await Promise.all(stored);
      expect(
        seqs.filter((seq) => seq > 0),
        "one leave stored per member",
      ).toHaveLength(3);
      for (const [n, room] of rooms.entries()) {
        const told = heard.map((served) => served.get(room)).filter((l) => l !== undefined);
        const counts = told.map((l) => orphaned(l).length);
        // Told in at least one survivor (whichever noticed first), at most once in each.
        expect(
          counts.some((c) => c === 1) && counts.every((c) => c <= 1),
          `orphaned counts in ${room}: ${counts}`,
        ).toBe(true);
        for (const listener of told) {
          for (const h of orphaned(listener))
            expect(h).toEqual({ kind: "orphaned", members: [{ id: `v${n}`, info: { nick: `v${n}` } }] });
          expect(left(listener, n), `one leave message in ${room}`).toHaveLength(1);
          const leaves = listener.heard.filter((h) => h.kind === "presence" && h.change.leave === `v${n}`);
          expect(leaves, `one leave in ${room}'s presence`).toHaveLength(1);
        }
      }
      // Nobody is orphaned again at later beats.
      await threeBeats(timing.heartbeatInterval);
      expect(stored).toHaveLength(seqs.length);
      for (const served of heard)
        for (const listener of served.values()) expect(orphaned(listener).length).toBeLessThanOrEqual(1);
    } finally {
      await Promise.all(survivors.map((s) => s.close()));
    }
  });

  test("a store paused past deadAfter: its members are announced gone in every room, and once it resumes each of its rooms hears revived() once", async () => {
    const timing = { heartbeatInterval: 200, deadAfter: 1000 };
    const sleeper = await StoreProcess.start("deno", {
      REDIS_URL: redis.url,
      HEARTBEAT_INTERVAL: "200",
      DEAD_AFTER: "1000",
    });
    children.push(sleeper.process);
    const watcher = await RedisRoomStore.connect({ url: redis.url, onError: quiet, ...timing });
    try {
      const rooms = [freshRoom("pause-a"), freshRoom("pause-b")];
      const listeners = rooms.map(() => new RecordingListener());
      for (const [n, room] of rooms.entries()) {
        await sleeper.open(room);
        await sleeper.append(room, {}, { join: { id: `s${n}`, info: n } });
        const listener = listeners[n]!;
        const record = listener.orphaned.bind(listener);
        listener.orphaned = (members) => {
          record(members);
          for (const m of members) void watcher.append(room, `${m.id} left`, { leave: m.id });
        };
        await watcher.open(room, LIMITS, listener);
      }
      sleeper.process.signal("SIGSTOP");
      try {
        await Promise.all(
          listeners.map((l, n) =>
            l.until(
              (h) => h.some((x) => x.kind === "message" && x.entry.data === `s${n} left`),
              `s${n} left`,
            ),
          ),
        );
      } finally {
        sleeper.process.signal("SIGCONT");
      }
      const revived = (room: string) => sleeper.events.filter((e) => e.ev === "revived" && e.room === room);
      for (const room of rooms)
        await sleeper.until((e) => e.ev === "revived" && e.room === room, `revived in ${room}`);
      // It also heard the leaves stored meanwhile, and goes on beating: no second revival.
      for (const [n, room] of rooms.entries()) {
        await sleeper.until(
          (e) => e.ev === "presence" && e.room === room && (e.change as { leave?: string }).leave === `s${n}`,
          `the leave of s${n} in ${room}, in the paused store`,
        );
      }
      await threeBeats(timing.heartbeatInterval);
      for (const room of rooms) expect(revived(room), `revived once in ${room}`).toHaveLength(1);
      expect(sleeper.events.filter((e) => e.ev === "restarted")).toEqual([]);
    } finally {
      await watcher.close();
    }
  });

  test("Redis restarted empty: every open room hears restarted(epoch) once, numbering starts over at 1, no revival", async (ctx) => {
    if (!redis.owned) ctx.skip(); // the Redis at REDIS_URL is not ours to restart
    const store = await RedisRoomStore.connect({ url: redis.url, onError: quiet });
    try {
      const rooms = [freshRoom("restart-a"), freshRoom("restart-b"), freshRoom("restart-c")];
      const listeners = rooms.map(() => new RecordingListener());
      const before = await Promise.all(rooms.map((room, n) => store.open(room, LIMITS, listeners[n]!)));
      for (const room of rooms) await store.append(room, "before");
      await Promise.all(listeners.map((l) => l.untilMessages(1)));

      await redis.stop();
      await redis.restart();
      const restarted = (l: RecordingListener) => l.heard.filter((h) => h.kind === "restarted");
      await Promise.all(
        listeners.map((l, n) => l.until(() => restarted(l).length > 0, `restarted in ${rooms[n]}`, 10_000)),
      );
      for (const [n, listener] of listeners.entries()) {
        const [event] = restarted(listener) as { epoch: string }[];
        expect(event!.epoch).not.toBe(before[n]!.epoch);
        expect(await store.append(rooms[n]!, "after")).toBe(1);
        await listener.until((h) => h.some((x) => x.kind === "message" && x.entry.data === "after"), "after");
        expect(listener.messages.map((e) => [e.seq, e.data])).toEqual([
          [1, "before"],
          [1, "after"],
        ]);
      }
      // Another process opening a room now finds the new epoch.
      const other = await RedisRoomStore.connect({ url: redis.url, onError: quiet });
      const snapshot = await other.open(rooms[0]!, LIMITS, new RecordingListener());
      await other.close();
      expect(snapshot.epoch).toBe((restarted(listeners[0]!)[0] as { epoch: string }).epoch);
      // Beats went on meanwhile: still one restart each, and no revival (the restart explains being forgotten).
      await new Promise((resolve) => setTimeout(resolve, 1200));
      for (const listener of listeners) {
        expect(restarted(listener)).toHaveLength(1);
        expect(listener.heard.filter((h) => h.kind === "revived")).toEqual([]);
      }
    } finally {
      await store.close();
    }
  });

  test("redisRooms in node, bun and deno processes: members of two rooms everywhere hear one order; one moved to another process resumes each room exactly once", async () => {
    const servers = await Promise.all(
      RUNTIMES.map(async (runtime) => {
        const child = new RuntimeProcess(runtime, "test/fixtures/redis-rooms.ts", { REDIS_URL: redis.url });
        children.push(child);
        const line = await child.waitForLine((l) => l.startsWith("{"), `the ${runtime} rooms server`);
        return `ws://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/`;
      }),
    );
    const rooms = [freshRoom("rooms-a"), freshRoom("rooms-b")];
    type Frame = { type: string; room?: string; seq?: number; data?: unknown; epoch?: string };
    const frames = (client: TestClient) => client.messages.map((m) => JSON.parse(m as string) as Frame);
    const messages = (client: TestClient, room: string) =>
      frames(client)
        .filter((f) => f.type === "message" && f.room === room)
        .map((f) => [f.seq, f.data]);
    const join = async (url: string, resume?: Map<string, { epoch: string; seq: number }>) => {
      const client = await TestClient.open(url);
      await client.nextUntil((m) => JSON.parse(m).type === "welcome", "welcome");
      for (const room of rooms) client.send(JSON.stringify({ type: "join", room, ...resume?.get(room) }));
      for (const room of rooms) {
        await client.nextUntil(
          (m) => JSON.parse(m).type === "joined" && JSON.parse(m).room === room,
          `joined ${room}`,
        );
      }
      return client;
    };
    const until = (client: TestClient, room: string, count: number) =>
      until_(() => messages(client, room).length >= count, `${count} messages in ${room}`);
    const clients: TestClient[] = [];
    for (const url of servers) clients.push(await join(url));
    for (const [c, client] of clients.entries()) {
      for (const room of rooms) {
        for (let n = 0; n < 3; n++)
          client.send(JSON.stringify({ type: "publish", room, data: `${RUNTIMES[c]} ${n}` }));
      }
    }
    for (const client of clients) for (const room of rooms) await until(client, room, 9);
    for (const room of rooms) {
      const order = messages(clients[0]!, room);
      expect(order.map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const client of clients) expect(messages(client, room)).toEqual(order);
    }
    // The node client leaves, the others talk on, and it comes back through the bun process.
    const joined = new Map(
      frames(clients[0]!)
        .filter((f) => f.type === "joined")
        .map((f) => [f.room!, { epoch: f.epoch!, seq: 9 }]),
    );
    const before = new Map(rooms.map((room) => [room, messages(clients[0]!, room)]));
    await clients[0]!.close();
    for (const room of rooms) {
      for (let n = 3; n < 5; n++) {
        clients[1]!.send(JSON.stringify({ type: "publish", room, data: `bun ${n}` }));
        clients[2]!.send(JSON.stringify({ type: "publish", room, data: `deno ${n}` }));
      }
    }
    for (const room of rooms) await until(clients[2]!, room, 13);
    const moved = await join(servers[1]!, joined);
    for (const room of rooms) clients[2]!.send(JSON.stringify({ type: "publish", room, data: "last" }));
    for (const room of rooms) {
      await until(moved, room, 5);
      await until(clients[2]!, room, 14);
      const resumed = messages(moved, room);
      // Nothing it had, nothing twice: 10…14, the same as the member that stayed.
      expect(resumed.map(([seq]) => seq)).toEqual([10, 11, 12, 13, 14]);
      expect([...before.get(room)!, ...resumed]).toEqual(messages(clients[2]!, room));
    }
    await Promise.all([moved.close(), clients[1]!.close(), clients[2]!.close()]);
  });

  test("stores in node, bun and deno processes on one Redis: every room's messages (text, JSON, bytes) heard once, in one order, everywhere", async () => {
    const stores = await Promise.all(
      RUNTIMES.map((runtime) => StoreProcess.start(runtime, { REDIS_URL: redis.url })),
    );
    children.push(...stores.map((store) => store.process));
    const rooms = [freshRoom("runtimes-a"), freshRoom("runtimes-b")];
    for (const store of stores) for (const room of rooms) await store.open(room);
    await Promise.all(
      stores.flatMap((store, s) =>
        rooms.map(async (room) => {
          await store.append(room, { data: `${RUNTIMES[s]} text` });
          await store.append(room, { data: { from: RUNTIMES[s], n: [1, null] } });
          await store.append(room, { bytes: Buffer.from([s, 0, 255]).toString("base64") });
        }),
      ),
    );
    for (const room of rooms) {
      for (const store of stores) {
        await store.process.waitUntil(
          () => (store.messages(room).length >= 9 ? true : undefined),
          `9 messages in ${room}`,
        );
      }
      const [first, ...others] = stores.map((store) =>
        store.messages(room).map(({ seq, data, bytes }) => ({ seq, data, bytes })),
      );
      expect(first!.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const other of others) expect(other).toEqual(first);
      for (const [s, runtime] of RUNTIMES.entries()) {
        expect(first!.filter((m) => m.data === `${runtime} text`)).toHaveLength(1);
        expect(
          first!.filter((m) => JSON.stringify(m.data) === JSON.stringify({ from: runtime, n: [1, null] })),
        ).toHaveLength(1);
        expect(first!.filter((m) => m.bytes === Buffer.from([s, 0, 255]).toString("base64"))).toHaveLength(1);
      }
    }
  });
});

describe.skipIf(noCluster !== undefined)(
  "[redis-cluster] RedisRoomStore on a Redis Cluster of three masters",
  () => {
    let cluster: TestRedisCluster;
    let clients = 0;
    beforeAll(async () => {
      cluster = await TestRedisCluster.start();
    });
    afterAll(() => cluster?.dispose());

    /** A store on an ioredis Cluster client of its own (named, to find its connections), closed with it. */
    const connect = async (): Promise<{ store: RedisRoomStore; name: string; close(): Promise<void> }> => {
      const name = `cluster-test-${process.pid}-${++clients}`;
      const client = new Cluster(cluster.nodes, { redisOptions: { connectionName: name } });
      const store = await RedisRoomStore.connect({ redis: client, onError: quiet });
      return {
        store,
        name,
        close: async () => {
          await store.close();
          await client.quit();
        },
      };
    };

    storeSuite("redis-cluster", () => ({
      open: async (): Promise<RoomStore> => {
        const { store, close } = await connect();
        return {
          open: (room, limits, listener) => store.open(room, limits, listener),
          append: (room, data, change, origin) => store.append(room, data, change, origin),
          release: (room) => store.release(room),
          close,
        };
      },
      shared: true,
    }));

    test("room names with braces, percent signs or nothing at all: each its own room, its keys in one slot", async () => {
      const { store, close } = await connect();
      try {
        const base = freshRoom("names");
        const names = [`${base}}`, `{${base}`, `${base}{}`, `}${base}{`, `${base}%7B`, `${base}{`, ""];
        const listeners = names.map(() => new RecordingListener());
        for (const [n, name] of names.entries()) await store.open(name, LIMITS, listeners[n]!);
        for (const [n, name] of names.entries()) {
          // A tag broken by the name would spread the script's keys over slots: CROSSSLOT.
          expect(
            await store.append(name, `to ${JSON.stringify(name)}`, { join: { id: `m${n}`, info: n } }),
          ).toBe(1);
        }
        for (const [n, listener] of listeners.entries()) {
          await listener.untilMessages(1);
          expect(listener.messages.map((e) => e.data)).toEqual([`to ${JSON.stringify(names[n])}`]);
        }
      } finally {
        await close();
      }
    });

    test("rooms on every master, appends from two stores, the subscribers cut mid-stream: every message heard once, in order, by both; 1 connection per master + 1 subscriber per store", async () => {
      // Three rooms, one on each master.
      const rooms = new Map<number, string>();
      for (let n = 0; rooms.size < 3; n++) {
        const room = freshRoom(`cluster-${n}`);
        const master = await cluster.masterOf(roomKeys("polysocket", room).stream);
        if (!rooms.has(master)) rooms.set(master, room);
        expect(n, "room names over three masters within 200 tries").toBeLessThan(200);
      }
      const names = [...rooms.values()];
      const stores = [await connect(), await connect()];
      try {
        const heard = stores.map(() => names.map(() => new RecordingListener()));
        for (const [s, { store }] of stores.entries()) {
          for (const [r, room] of names.entries()) await store.open(room, LIMITS, heard[s]![r]!);
        }
        // Connections: each store has one command connection per master and one subscriber, on one node.
        for (const { name } of stores) {
          const perNode = await Promise.all(
            cluster.ports.map(async (port) =>
              String(await cluster.node(port).client("LIST"))
                .split("\n")
                .filter((line) => line.includes(` name=${name} `)),
            ),
          );
          const counts = perNode.map((lines) => lines.length);
          expect(
            counts.every((count) => count >= 1 && count <= 2),
            `connections per node: ${counts}`,
          ).toBe(true);
          expect(counts.reduce((a, b) => a + b)).toBe(4);
          expect(perNode.flat().filter((line) => / flags=P /.test(line))).toHaveLength(1);
        }
        const burst = (from: number, to: number) =>
          Promise.all(
            stores.flatMap(({ store }, s) =>
              names.map(async (room) => {
                for (let n = from; n < to; n++) await store.append(room, `s${s} ${n}`);
              }),
            ),
          );
        await burst(0, 10);
        // Cut every subscriber connection; the stores reconnect and catch up from the streams.
        const killed = await Promise.all(
          cluster.ports.map((port) => cluster.node(port).call("CLIENT", "KILL", "TYPE", "pubsub")),
        );
        expect(
          killed.map(Number).reduce((a, b) => a + b),
          "both stores' subscribers cut",
        ).toBe(2);
        await burst(10, 20);
        for (const listeners of heard) {
          for (const [r, listener] of listeners.entries()) {
            await listener.untilMessages(40);
            const seqs = listener.messages.map((e) => e.seq);
            expect(seqs, `room ${names[r]}`).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
          }
        }
        for (const [r] of names.entries()) {
          expect(heard[1]![r]!.messages).toEqual(heard[0]![r]!.messages);
          const texts = heard[0]![r]!.messages.map((e) => e.data as string);
          for (const s of [0, 1]) {
            // Each store's own messages in the order it sent them.
            expect(texts.filter((t) => t.startsWith(`s${s} `))).toEqual(
              Array.from({ length: 20 }, (_, n) => `s${s} ${n}`),
            );
          }
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  },
);
