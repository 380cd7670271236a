/**
 * The multi-process scenario (`--scenarios redis`): chat fan-out through one
 * Redis (`polysocket/redis`) with 1, 2 and 3 server processes (all Node, and
 * one per runtime: Node + Bun, Node + Bun + Deno), clients spread evenly over
 * them, every client receiving every message; and, per runtime, the same
 * `ChatRoom` in memory and through Redis in one process, measured in the same
 * run, for the per-message cost of the Redis path. Server processes share the
 * server core (see processes.ts), so more processes do not mean more CPU. It starts its own
 * `redis-server` on a free loopback port, without persistence, and stops it.
 */
import { writeFileSync } from "node:fs";
import { redisServerBinary, TestRedis } from "../test/harness/redis.ts";
import type { Config, Runtime } from "./config.ts";
import { PINNED, runLoad, ServerProcess } from "./processes.ts";
import { machine } from "./report.ts";
import { formatNumber, median } from "./stats.ts";

/** One server set-up: its runtimes (one process each) and whether the room goes through Redis. */
interface Setup {
  name: string;
  runtimes: Runtime[];
  redis: boolean;
}

const SETUPS: readonly Setup[] = [
  ...(["node", "bun", "deno"] as const).flatMap((runtime) => [
    { name: `${runtime}, in memory`, runtimes: [runtime], redis: false },
    { name: `${runtime}, Redis`, runtimes: [runtime], redis: true },
  ]),
  { name: "2 × node, Redis", runtimes: ["node", "node"], redis: true },
  { name: "3 × node, Redis", runtimes: ["node", "node", "node"], redis: true },
  { name: "node + bun, Redis", runtimes: ["node", "bun"], redis: true },
  { name: "node + bun + deno, Redis", runtimes: ["node", "bun", "deno"], redis: true },
];

/** The cost of the Redis path in one process of one runtime: same run, same room size. */
export interface Overhead {
  runtime: Runtime;
  /** Redis rate over in-memory rate. */
  ratio: number;
  /** Extra µs per message (of the whole room's delivery) through Redis. */
  microsPerMessage: number;
}

export interface RedisRow {
  setup: string;
  runtimes: Runtime[];
  /** Median deliveries per second over the rounds. */
  deliveries: number;
  /** Median messages per second (deliveries / clients) and µs per message. */
  messages: number;
  microsPerMessage: number;
  /** Clients that missed a message (summed over rounds; 0 is the expectation). */
  incomplete: number;
  samples: number[];
}

/** Runs every set-up `config.rounds` times and writes results-redis.json and .md; returns the table. */
export async function runRedis(config: Config): Promise<string> {
  if (!redisServerBinary()) {
    throw new Error("the redis scenario needs redis-server on PATH (apt-get install redis-server)");
  }
  const redis = await startRedis();
  const values = new Map<string, number[]>(SETUPS.map((s) => [s.name, []]));
  const incomplete = new Map<string, number>(SETUPS.map((s) => [s.name, 0]));
  try {
    for (let round = 1; round <= config.rounds; round++) {
      for (const [index, setup] of SETUPS.entries()) {
        // A fresh room (Redis stream) per measurement: none inherits another's history or members.
        const room = `bench-${round}-${index}`;
        const env: Record<string, string> = setup.redis
          ? { BENCH_REDIS_URL: redis.url, BENCH_ROOM: room }
          : {};
        const servers: ServerProcess[] = [];
        try {
          for (const runtime of setup.runtimes)
            servers.push(await ServerProcess.start(runtime, "chat-room.ts", env));
          const urls = servers.map((s) => `ws://127.0.0.1:${s.port}/`);
          const job = {
            scenario: "fanout" as const,
            url: urls[0]!,
            urls,
            clients: config.redisClients,
            window: config.window,
            size: config.size,
            warmupMs: config.warmupMs,
            measureMs: config.measureMs,
          };
          const result = await runLoad(job, servers[0]!);
          values.get(setup.name)!.push(result.rate);
          incomplete.set(setup.name, incomplete.get(setup.name)! + (result.incomplete ?? 0));
          console.log(
            `[round ${round}/${config.rounds}] ${setup.name.padEnd(19)} ${formatNumber(result.rate).padStart(7)} deliveries/s, clients missing messages: ${result.incomplete ?? 0}`,
          );
        } catch (error) {
          console.error(`  ! ${setup.name} failed: ${(error as Error).message.split("\n")[0]}`);
          values.get(setup.name)!.push(Number.NaN);
        } finally {
          for (const server of servers) await server.kill();
        }
      }
    }
  } finally {
    await redis.stop();
  }
  const rows: RedisRow[] = SETUPS.map((setup) => {
    const deliveries = median(values.get(setup.name)!);
    const messages = deliveries / config.redisClients;
    return {
      setup: setup.name,
      runtimes: setup.runtimes,
      deliveries,
      messages,
      microsPerMessage: 1e6 / messages,
      incomplete: incomplete.get(setup.name)!,
      samples: values.get(setup.name)!,
    };
  });
  const overhead: Overhead[] = (["node", "bun", "deno"] as const).map((runtime) => {
    const memory = rows.find((r) => r.setup === `${runtime}, in memory`)!;
    const redis = rows.find((r) => r.setup === `${runtime}, Redis`)!;
    return {
      runtime,
      ratio: redis.deliveries / memory.deliveries,
      microsPerMessage: redis.microsPerMessage - memory.microsPerMessage,
    };
  });
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    /** Server processes on core 0, generator on core 1, redis-server unpinned. */
    pinned: PINNED,
    clients: config.redisClients,
    window: config.window,
    size: config.size,
    rounds: config.rounds,
    rows,
    overhead,
  };
  const table = renderRedisTable(results.clients, rows, overhead);
  writeFileSync(`${config.out}/results-redis.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${config.out}/results-redis.md`, table);
  return table;
}

function renderRedisTable(clients: number, rows: RedisRow[], overhead: Overhead[]): string {
  const lines = [
    `| chat fan-out, ${clients} clients | processes | deliveries/s | messages/s | µs per message | clients missing messages |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${r.runtimes.length} | ${formatNumber(r.deliveries)} | ${formatNumber(r.messages)} | ${r.microsPerMessage.toFixed(1)} | ${r.incomplete} |`,
    ),
    "",
    "| Redis path, 1 process | rate vs in memory | extra µs per message |",
    "| --- | ---: | ---: |",
    ...overhead.map((o) => `| ${o.runtime} | ${o.ratio.toFixed(2)}× | ${o.microsPerMessage.toFixed(1)} |`),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * A throwaway redis-server (the tests' own, test/harness/redis.ts), taken along
 * when the run is interrupted (Ctrl-C, a timeout) instead of being left running.
 */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const redis = await TestRedis.start();
  const onSignal = () => {
    void redis.stop();
    process.exit(130);
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  process.once("exit", () => void redis.stop());
  const stop = async () => {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    await redis.dispose();
  };
  return { url: redis.url, stop };
}
