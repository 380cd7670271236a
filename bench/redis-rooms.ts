/**
 * The Redis rooms benchmark (issue 18's "Numbers"): 1,000 rooms × 5 members
 * spread over 3 server processes (Node, Bun, Deno: bench/servers/redis-rooms.ts)
 * on one throwaway Redis. 1,000 WebSocket clients (from this process, `ws`),
 * each a member of 5 rooms; room r's members are clients r, r+200, r+400,
 * r+600 and r+800, and client c is served by process c mod 3, so every room
 * spans all three processes. At each fixed offered load (messages/s over all
 * rooms, round robin, each published by one of the room's members), it
 * measures deliveries/s (every member, the sender included, receives each
 * message) and the send-to-receive latency (sender and receivers share this
 * process's clock), and reads the Redis connections of each server process
 * from CLIENT LIST. Writes bench/results-redis-rooms.json and .md.
 *
 * Run: `npx tsx bench/redis-rooms.ts [--rates 200,1000,2000] [--seconds 5]`.
 */
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import { RuntimeProcess } from "../test/harness/process.ts";
import { TestRedis } from "../test/harness/redis.ts";
import { RUNTIMES } from "../test/harness/runtimes.ts";
import { machine } from "./report.ts";

const ROOMS = 1000;
const MEMBERS = 5;
const CLIENTS = 1000;
const STRIDE = CLIENTS / MEMBERS;
const WARMUP_MS = 1000;

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const RATES = option("rates", "200,1000,2000").split(",").map(Number);
const MEASURE_MS = Number(option("seconds", "5")) * 1000;

/** One benchmark client: its socket, and every delivery's latency while measuring. */
interface Client {
  socket: WebSocket;
  rooms: string[];
}

const roomName = (r: number) => `bench-room-${r}`;
/** The rooms of client `c`: r with c ≡ r (mod STRIDE), i.e. c = r + j·STRIDE. */
const roomsOf = (c: number) =>
  Array.from({ length: MEMBERS }, (_, j) => (c % STRIDE) + j * STRIDE).filter((r) => r < ROOMS);

/** The messages measured: sent with an index in [windowFrom, windowTo). */
let windowFrom = Number.POSITIVE_INFINITY;
let windowTo = Number.POSITIVE_INFINITY;
let delivered = 0;
let latencies: number[] = [];
/** Messages are numbered across measurements. */
let sent = 0;

async function main(): Promise<void> {
  const redis = await TestRedis.start();
  const servers: { runtime: string; process: RuntimeProcess; port: number; id: string }[] = [];
  const clients: Client[] = [];
  try {
    for (const runtime of RUNTIMES) {
      const child = new RuntimeProcess(runtime, "bench/servers/redis-rooms.ts", {
        BENCH_REDIS_URL: redis.url,
      });
      const line = await child.waitForLine((l) => l.startsWith("{"), `the ${runtime} server's port`);
      const { port, process: id } = JSON.parse(line) as { port: number; process: string };
      servers.push({ runtime, process: child, port, id });
    }
    for (let c = 0; c < CLIENTS; c++)
      clients.push(await connect(servers[c % servers.length]!.port, roomsOf(c)));
    await Promise.all(clients.map(joinAll));
    const connections = await connectionsPerProcess(redis, servers);
    console.log(
      `joined: ${ROOMS} rooms × ${MEMBERS} members over ${servers.length} processes; Redis connections ${JSON.stringify(connections)}`,
    );

    const rows = [];
    for (const rate of RATES) rows.push(await measure(clients, rate));
    const after = await connectionsPerProcess(redis, servers);
    const results = {
      date: new Date().toISOString(),
      machine: machine(),
      rooms: ROOMS,
      membersPerRoom: MEMBERS,
      clients: CLIENTS,
      processes: servers.map((s) => s.runtime),
      redisConnectionsPerProcess: after,
      measureMs: MEASURE_MS,
      rows,
    };
    writeFileSync("bench/results-redis-rooms.json", `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync("bench/results-redis-rooms.md", render(results));
    console.log(render(results));
  } finally {
    for (const client of clients) client.socket.terminate();
    await Promise.all(servers.map((s) => s.process.stop("SIGKILL")));
    await redis.dispose();
  }
}

/** Opens a client to `port`, resolving once it is welcomed. */
function connect(port: number, rooms: number[]): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
    const client: Client = { socket, rooms: rooms.map(roomName) };
    socket.once("error", reject);
    socket.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; data?: string; room?: string };
      if (frame.type === "welcome") resolve(client);
      else if (frame.type === "message" && typeof frame.data === "string") {
        const bar = frame.data.indexOf("|");
        const index = Number(frame.data.slice(bar + 1));
        if (index < windowFrom || index >= windowTo) return;
        delivered++;
        latencies.push(performance.now() - Number(frame.data.slice(0, bar)));
      }
    });
  });
}

/** Joins every room of `client`, resolving once each is `joined`. */
function joinAll(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending = new Set(client.rooms);
    const timer = setTimeout(() => reject(new Error(`joins timed out: ${[...pending].join(", ")}`)), 60_000);
    client.socket.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; room?: string };
      if (frame.type === "joined" && pending.delete(frame.room!) && pending.size === 0) {
        clearTimeout(timer);
        resolve();
      }
      if (frame.type === "left") reject(new Error(`join refused: ${String(raw)}`));
    });
    for (const room of client.rooms) client.socket.send(JSON.stringify({ type: "join", room }));
  });
}

/**
 * Offers `rate` messages/s (round robin over the rooms, each sent by one of its
 * members) for the warm-up and the measurement; counts the deliveries and
 * latencies of the messages sent during the measurement, waiting (at most 5 s)
 * for the last of them.
 */
async function measure(clients: Client[], rate: number) {
  const publishers = Array.from({ length: ROOMS }, (_, r) => clients[r]!); // client r is a member of room r
  const start = performance.now();
  const first = sent;
  windowFrom = Number.POSITIVE_INFINITY;
  windowTo = Number.POSITIVE_INFINITY;
  latencies = [];
  delivered = 0;
  let measuredFrom = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (windowFrom === Number.POSITIVE_INFINITY && now >= start + WARMUP_MS) {
        windowFrom = sent;
        measuredFrom = now;
      }
      if (now >= start + WARMUP_MS + MEASURE_MS) return resolve();
      const due = first + Math.floor(((now - start) / 1000) * rate);
      while (sent < due) {
        const r = sent % ROOMS;
        const data = `${performance.now()}|${sent}`;
        publishers[r]!.socket.send(JSON.stringify({ type: "publish", room: roomName(r), data }));
        sent++;
      }
      setTimeout(tick, 2);
    };
    tick();
  });
  const seconds = (performance.now() - measuredFrom) / 1000;
  windowTo = sent;
  const offered = windowTo - windowFrom;
  const expected = offered * MEMBERS;
  const deadline = performance.now() + 5000;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const row = {
    offeredMessagesPerSecond: rate,
    messagesMeasured: offered,
    deliveriesPerSecond: delivered / seconds,
    missing: expected - delivered,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
  console.log(JSON.stringify(row));
  return row;
}

/** Redis connections per server process, by the name its store gives them (`polysocket:{process}`). */
async function connectionsPerProcess(redis: TestRedis, servers: { runtime: string; id: string }[]) {
  const list = String(await redis.inspect().client("LIST")).split("\n");
  return Object.fromEntries(
    servers.map((s) => [s.runtime, list.filter((line) => line.includes(` name=polysocket:${s.id} `)).length]),
  );
}

function render(results: {
  machine: ReturnType<typeof machine>;
  redisConnectionsPerProcess: Record<string, number>;
  rows: Awaited<ReturnType<typeof measure>>[];
}): string {
  const m = results.machine;
  const lines = [
    `${ROOMS} rooms × ${MEMBERS} members, ${CLIENTS} clients over node + bun + deno processes, one Redis; ${m.cpus} × ${m.cpuModel}, Node ${m.node}, Bun ${m.bun}, ${m.deno}.`,
    `Redis connections per process: ${Object.entries(results.redisConnectionsPerProcess)
      .map(([r, n]) => `${r} ${n}`)
      .join(", ")}.`,
    "",
    "| offered messages/s | deliveries/s | deliveries missing | p50 ms | p99 ms | max ms |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...results.rows.map(
      (r) =>
        `| ${r.offeredMessagesPerSecond} | ${Math.round(r.deliveriesPerSecond)} | ${r.missing} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

await main();
