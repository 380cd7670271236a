/**
 * Exactly once, both ways, across Node, Bun and Deno server processes on one
 * Redis (test/fixtures/exactly-once-server.ts): `polysocket/client` clients
 * (two in this Node process, one in a Bun and one in a Deno client fixture,
 * test/fixtures/client.ts) publish numbered messages to one room through TCP
 * proxies that cut their
 * connections at random points (seeded: the seed is printed, POLYSOCKET_SEED
 * repeats it) and send each new connection to any of the processes. Then the
 * room's history in Redis holds every message once, in each sender's order,
 * and every client delivered every message once. Also: the process that got
 * (and stored) publishes dies before its acks reach the client, or dies
 * before it handled them at all; the client resends elsewhere and each is
 * stored once. Skips with one line without Redis (fails under
 * POLYSOCKET_REQUIRE_REDIS=1).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type Client, type ClientRoom, connect } from "../src/client/index.ts";
import type { JsonValue, RoomEntry } from "../src/core/rooms/store.ts";
import { RedisRoomStore } from "../src/redis/index.ts";
import { ClientFixture } from "./harness/client-fixture.ts";
import { CutProxy } from "./harness/cut-proxy.ts";
import { within } from "./harness/deadline.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { between, seeded, testSeed } from "./harness/random.ts";
import { redisUnavailable, TestRedis } from "./harness/redis.ts";
import { RUNTIMES, type Runtime } from "./harness/runtimes.ts";
import { RecordingListener } from "./store-suite.ts";

const unavailable = redisUnavailable();
if (unavailable) console.log(`exactly-once tests skipped: ${unavailable}`);

const CLIENTS = 4;
const PER_CLIENT = 200;
/** Reconnect fast: a cut costs milliseconds, not the default half second. */
const FAST = { minDelay: 10, maxDelay: 100, heartbeatInterval: 0, maxQueued: PER_CLIENT };

type Sent = { c: number; n: number };

/** One client of the test: its room handle and everything the room delivered, in order. */
interface Member {
  readonly client: Client;
  readonly room: ClientRoom;
  readonly delivered: { seq: number; data: unknown }[];
  readonly gaps: unknown[];
}

describe.skipIf(unavailable !== undefined)(
  "[exactly-once] across node, bun and deno processes on one Redis",
  () => {
    let redis: TestRedis;
    const ports = new Map<Runtime, number>();
    const children: RuntimeProcess[] = [];
    const cleanups: (() => unknown)[] = [];

    beforeAll(async () => {
      redis = await TestRedis.start();
      await Promise.all(
        RUNTIMES.map(async (runtime) => {
          const { port, process } = await startServer(runtime, redis.url);
          children.push(process);
          ports.set(runtime, port);
        }),
      );
    }, 40_000);
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    afterAll(async () => {
      await Promise.all(children.map((child) => child.stop("SIGKILL")));
      await redis?.dispose();
    });

    /** A client through a proxy of its own, joined to `room`, recording what it delivers. */
    function member(proxy: CutProxy, room: string): Member {
      const client = connect(`ws://127.0.0.1:${proxy.port}/`, FAST);
      cleanups.push(() => client.close());
      const handle = client.join(room);
      const delivered: Member["delivered"] = [];
      const gaps: unknown[] = [];
      handle.on("message", ({ seq, data }) => delivered.push({ seq, data }));
      handle.on("gap", (gap) => gaps.push(gap));
      return { client, room: handle, delivered, gaps };
    }

    async function proxyTo(port: number): Promise<CutProxy> {
      const proxy = await CutProxy.start(port);
      cleanups.push(() => proxy.close());
      return proxy;
    }

    test(`${CLIENTS} clients (node, node, bun, deno) publish ${PER_CLIENT} messages each while proxies cut at random: each stored once, in each sender's order, delivered once to everyone`, async () => {
      const seed = testSeed("exactly-once chaos");
      const room = `chaos-${seed}-${Date.now()}`;
      const live = [...ports.values()];
      const proxies = await Promise.all(Array.from({ length: CLIENTS }, () => proxyTo(live[0]!)));
      for (const [p, proxy] of proxies.entries()) {
        const pick = seeded(seed + 100 + p);
        proxy.route = () => live[between(pick, 0, live.length - 1)]!;
      }
      const fixtures = await Promise.all(
        (["bun", "deno"] as const).map(async (runtime) => {
          const { fixture } = await ClientFixture.start(runtime);
          cleanups.push(() => fixture.process.stop("SIGKILL"));
          return fixture;
        }),
      );
      const publishers: Publisher[] = [
        localPublisher(member(proxies[0]!, room), 0),
        localPublisher(member(proxies[1]!, room), 1),
        fixturePublisher(fixtures[0]!, proxies[2]!, room, 2, "bun"),
        fixturePublisher(fixtures[1]!, proxies[3]!, room, 3, "deno"),
      ];
      const started = Date.now();

      // Every client publishes in bursts of random length; a proxy cuts every 10-60 ms meanwhile.
      const all = Promise.all(publishers.map((p, c) => publishAll(p, c, seeded(seed + 200 + c))));
      all.catch(() => undefined);
      let cuts = 0;
      const chaos = (async () => {
        const pace = seeded(seed + 300);
        let done = false;
        void all.finally(() => (done = true)).catch(() => undefined);
        while (!done) {
          await sleep(between(pace, 10, 60));
          if (done) break;
          cuts += proxies[between(pace, 0, proxies.length - 1)]!.cut();
        }
      })();
      const acks = await within(all, 40_000, () => {
        const counts = publishers.map((p) => `${p.label} ${p.acknowledged()}`).join(", ");
        return `every publish acknowledged within 40 s (seed ${seed}); acknowledged: ${counts}; cuts ${cuts}`;
      });
      await chaos;
      const total = CLIENTS * PER_CLIENT;
      const connections = proxies.reduce((sum, proxy) => sum + proxy.connections, 0);
      console.log(
        `exactly-once chaos: ${total} messages acknowledged in ${Date.now() - started} ms, ${cuts} cuts, ${connections} connections`,
      );
      expect(cuts, "connections cut while publishing").toBeGreaterThan(3);
      expect(connections, "clients reconnected").toBeGreaterThan(CLIENTS + 3);
      expect(new Set(acks.flat()).size, `each acknowledged with its own seq (seed ${seed})`).toBe(total);

      // The room's history, read from Redis: every message once, in each sender's order, as acknowledged.
      const history = await storedHistory(redis.url, room);
      expect(history.map((e) => e.seq)).toEqual(range(1, total));
      const bySeq = new Map(history.map((e) => [e.seq, e.data as Sent]));
      for (const [c, publisher] of publishers.entries()) {
        const order = history.map((e) => e.data as Sent).filter((d) => d.c === c);
        expect(
          order.map((d) => d.n),
          `${publisher.label}'s messages once each, in its order (seed ${seed})`,
        ).toEqual(range(0, PER_CLIENT - 1));
        expect(acks[c]!.map((seq) => bySeq.get(seq))).toEqual(
          range(0, PER_CLIENT - 1).map((n) => ({ c, n })),
        );
      }

      // Every client delivers every message once: seqs 1…total, no repeat, no hole, no gap.
      for (const publisher of publishers) {
        await until(
          () => publisher.lastSeq() >= total,
          10_000,
          () =>
            `${publisher.label} to deliver ${total} messages, got to ${publisher.lastSeq()} (seed ${seed})`,
        );
        expect(publisher.gaps(), `${publisher.label}: no gap`).toEqual([]);
        const delivered = publisher.delivered();
        expect(
          delivered.map((d) => d.seq),
          `${publisher.label}: each seq once, in order (seed ${seed})`,
        ).toEqual(range(1, total));
        expect(delivered.map((d) => d.data)).toEqual(history.map((e) => e.data));
      }
    }, 60_000);

    test.each(RUNTIMES)(
      "the %s process that got publishes dies before acknowledging them (stored, or not even handled): the client resends to another process, each is stored once",
      async (runtime) => {
        const victim = await startServer(runtime, redis.url);
        cleanups.push(() => victim.process.stop("SIGKILL"));
        const survivor = ports.get(RUNTIMES.find((r) => r !== runtime)!)!;
        const room = `victim-${runtime}-${Date.now()}`;
        const proxy = await proxyTo(victim.port);
        const publisher = member(proxy, room);
        const observer = member(await proxyTo(survivor), room);
        await within(publisher.room.publish("warm up"), 10_000, () => "the first publish acknowledged");

        // Stored, acks held: the victim got them and stored them; its answers stay in the proxy.
        proxy.stall(true);
        const stored = [1, 2, 3].map((n) => publisher.room.publish({ batch: "stored", n }));
        await until(
          () => observer.delivered.length >= 4,
          10_000,
          () => `the observer to hear the 3 held-ack messages, heard ${observer.delivered.length - 1}`,
        );
        // Not handled: the victim is stopped, then gets three more it never reads.
        victim.process.signal("SIGSTOP");
        const before = proxy.forwarded;
        const unhandled = [1, 2, 3].map((n) => publisher.room.publish({ batch: "unhandled", n }));
        await until(
          () => proxy.forwarded > before,
          5000,
          () => "the 3 later publishes forwarded to the stopped process",
        );
        let answered = 0;
        for (const p of [...stored, ...unhandled])
          p.then(
            () => answered++,
            () => undefined,
          );
        await sleep(0);
        expect(answered, "no ack reached the client before the kill").toBe(0);
        proxy.target = survivor;
        await victim.process.stop("SIGKILL");
        proxy.cut(); // the held acks are lost with the connection
        proxy.stall(false);

        const storedSeqs = await within(
          Promise.all(stored),
          10_000,
          () => "acks of the stored batch after the resend",
        );
        const laterSeqs = await within(Promise.all(unhandled), 10_000, () => "acks of the unhandled batch");
        // The stored ones keep the seqs the victim gave them: the resend was acknowledged, not stored again.
        const firstSeqs = observer.delivered
          .filter((d) => (d.data as { batch?: string }).batch === "stored")
          .map((d) => d.seq);
        expect(storedSeqs).toEqual(firstSeqs);
        const history = await storedHistory(redis.url, room);
        expect(history.map((e) => e.data)).toEqual([
          "warm up",
          ...[1, 2, 3].map((n) => ({ batch: "stored", n })),
          ...[1, 2, 3].map((n) => ({ batch: "unhandled", n })),
        ]);
        expect(history.map((e) => e.seq)).toEqual([1, 2, 3, 4, ...laterSeqs]);
        await until(
          () => publisher.room.lastSeq >= 7 && observer.room.lastSeq >= 7,
          10_000,
          () => "both clients to deliver all 7",
        );
        for (const m of [publisher, observer]) expect(m.delivered.map((d) => d.seq)).toEqual(range(1, 7));
      },
      30_000,
    );
  },
);

/** A server process of `runtime` on Redis at `url`, once it listens. */
async function startServer(
  runtime: Runtime,
  url: string,
): Promise<{ port: number; process: RuntimeProcess }> {
  const process = new RuntimeProcess(runtime, "test/fixtures/exactly-once-server.ts", { REDIS_URL: url });
  const line = await process.waitForLine((l) => l.startsWith("{"), `the ${runtime} server`);
  return { port: (JSON.parse(line) as { port: number }).port, process };
}

/** One publishing client of the chaos test, in this process or in a client fixture of another runtime. */
interface Publisher {
  readonly label: string;
  /** Publishes `data` (fire and forget; {@link Publisher.acks} waits for the answers). */
  publish(data: Sent): void;
  /** The seq of each publish in order, once all are acknowledged; rejects on a refusal. */
  acks(): Promise<number[]>;
  acknowledged(): number;
  lastSeq(): number;
  delivered(): { seq: number; data: unknown }[];
  gaps(): unknown[];
}

/** A `polysocket/client` of this process (Node) as a publisher. */
function localPublisher(m: Member, c: number): Publisher {
  const promises: Promise<number>[] = [];
  let acknowledged = 0;
  return {
    label: `client ${c} (node, in the test)`,
    publish(data) {
      const promise = m.room.publish(data);
      promise.then(
        () => acknowledged++,
        () => undefined,
      );
      promises.push(promise);
    },
    acks: () => Promise.all(promises),
    acknowledged: () => acknowledged,
    lastSeq: () => m.room.lastSeq,
    delivered: () => m.delivered,
    gaps: () => m.gaps,
  };
}

/** A `polysocket/client` in a client fixture process of `runtime` (test/fixtures/client.ts) as a publisher. */
function fixturePublisher(
  fixture: ClientFixture,
  proxy: CutProxy,
  room: string,
  c: number,
  runtime: Runtime,
): Publisher {
  const name = `c${c}`;
  fixture.connect(name, `ws://127.0.0.1:${proxy.port}/`, FAST);
  fixture.command({ cmd: "join", name, room });
  const outcomes = () =>
    fixture
      .events()
      .filter((e) => e.name === name && (e.ev === "publish-stored" || e.ev === "publish-failed"));
  const messages = () => fixture.of(name, "room-message");
  return {
    label: `client ${c} (${runtime} process)`,
    publish: (data) => fixture.command({ cmd: "publish", name, room, data, ref: data.n }),
    acks: async () => {
      const done = await fixture.waitForCount(
        (e) => e.name === name && (e.ev === "publish-stored" || e.ev === "publish-failed"),
        PER_CLIENT,
        `answers to ${name}'s publishes`,
      );
      const failed = done.find((e) => e.ev === "publish-failed");
      if (failed) throw new Error(`${name}'s publish ${failed.ref} failed: ${failed.code} ${failed.message}`);
      const seqs = new Map(done.map((e) => [e.ref as number, e.seq as number]));
      return range(0, PER_CLIENT - 1).map((n) => seqs.get(n)!);
    },
    acknowledged: () => outcomes().length,
    lastSeq: () => Math.max(0, ...messages().map((e) => e.seq as number)),
    delivered: () => messages().map((e) => ({ seq: e.seq as number, data: e.data })),
    gaps: () => fixture.of(name, "room-gap"),
  };
}

/** Publishes `{ c, n }` for n = 0…PER_CLIENT-1, in bursts with short random pauses; resolves with their seqs. */
async function publishAll(publisher: Publisher, c: number, random: () => number): Promise<number[]> {
  for (let n = 0; n < PER_CLIENT; n++) {
    publisher.publish({ c, n });
    if (random() < 0.3) await sleep(between(random, 2, 25));
  }
  return publisher.acks();
}

/** The room's whole history, read from Redis by a store of this process. */
async function storedHistory(url: string, room: string): Promise<readonly RoomEntry[]> {
  const store = await RedisRoomStore.connect({ url, onError: () => undefined });
  try {
    const snapshot = await store.open(
      room,
      { historyLimit: 100_000, maxAge: undefined },
      new RecordingListener(),
    );
    return snapshot.history.map((e) => ({ ...e, data: e.data as JsonValue }));
  } finally {
    await store.close();
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds (checked every 5 ms); rejects with `expected()` after `ms`. */
async function until(condition: () => boolean, ms: number, expected: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${expected()}`);
    await sleep(5);
  }
}
