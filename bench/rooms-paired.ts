/**
 * `npx tsx bench/rooms-paired.ts`: one room against one topic, both polysocket,
 * measured at the same time. On each runtime, the rooms benchmark server
 * (bench/servers/rooms.ts: 500 members of one room publishing frames) and the
 * polysocket server (bench/servers/polysocket.ts: 500 subscribers of one topic)
 * run at once on the server core, each fed by its own generator on the other
 * core, both measuring the same wall-clock window (the room's join storm comes
 * first: every join sends everyone a presence frame). Other work on the machine
 * then slows both alike. Each round gives ratios (room / topic) of deliveries
 * per second and per server CPU-second; medians go to bench/rooms/paired.{json,md}.
 *
 * Flags: --rounds N (default 5), --runtimes a,b (node,bun,deno,deno-node),
 * --clients N (500), --size N (1024), --warmup MS (3000, after the slower
 * set-up), --measure MS (1500), --out DIR (bench/rooms).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { TARGETS, type Target } from "./config.ts";
import type { Job } from "./job.ts";
import { pairCells } from "./pair-cells.ts";
import { type Measurement, runLoad, ServerProcess } from "./processes.ts";
import { machine } from "./report.ts";
import { formatNumber, median } from "./stats.ts";

type Side = "room" | "topic";

/** One round on one target: both sides measured in the same window. */
interface Pair {
  target: string;
  round: number;
  room: Measurement;
  topic: Measurement;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string" },
    runtimes: { type: "string" },
    clients: { type: "string" },
    size: { type: "string" },
    warmup: { type: "string" },
    measure: { type: "string" },
    out: { type: "string" },
  },
});
const num = (value: string | undefined, full: number) => {
  const n = value === undefined ? full : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`expected an integer ≥ 1, got ${value}`);
  return n;
};
const config = {
  rounds: num(values.rounds, 5),
  clients: num(values.clients, 500),
  size: num(values.size, 1024),
  warmupMs: num(values.warmup, 3000),
  measureMs: num(values.measure, 1500),
  window: 100,
  /** Time allowed for the room's join storm before the warm-up counts. */
  setupBudgetMs: 12_000,
};
const targets = (values.runtimes?.split(",") ?? ["node", "bun", "deno"]).map((name) => {
  const target = TARGETS.find((t) => t.name === name);
  if (!target)
    throw new TypeError(`unknown runtime "${name}"; known: ${TARGETS.map((t) => t.name).join(", ")}`);
  return target;
});
const out = values.out ?? "bench/rooms";

const FILES: Record<Side, string> = { room: "rooms.ts", topic: "polysocket.ts" };

function job(side: Side, port: number, startAt: number): Job {
  const { clients, size, window, measureMs } = config;
  const url = `ws://127.0.0.1:${port}/`;
  const warmupMs = startAt - Date.now(); // only bounds how long the runner waits for the window
  const base = { url, clients, size, window, warmupMs, measureMs, startAt };
  return side === "room" ? { ...base, scenario: "room" } : { ...base, scenario: "topics", topics: 1, fan: 1 };
}

async function runPair(target: Target, round: number): Promise<Pair> {
  // Alternate which server starts (and is loaded) first.
  const sides: Side[] = round % 2 ? ["room", "topic"] : ["topic", "room"];
  const env = { ...target.env };
  const servers = await Promise.all(
    sides.map((side) => ServerProcess.start(target.runtime, FILES[side], env)),
  );
  try {
    const startAt = Date.now() + config.setupBudgetMs + config.warmupMs;
    const measured = await Promise.all(
      servers.map((server, i) => runLoad(job(sides[i]!, server.port, startAt), server)),
    );
    const of = (side: Side) => measured[sides.indexOf(side)]!;
    const setup = of("room").setupMs ?? 0;
    if (setup > config.setupBudgetMs) {
      console.error(`  ! the room's set-up took ${Math.round(setup)} ms: its warm-up was shorter`);
    }
    return { target: target.name, round, room: of("room"), topic: of("topic") };
  } finally {
    await Promise.all(servers.map((server) => server.kill()));
  }
}

/** Other work in a pair's window: the machine's, less the other side's server and generator. */
const others = (pair: Pair) => Math.max(0, pair.room.otherCpu - pair.topic.serverCpu - pair.topic.cpu);

/** The results table: one row per runtime. */
function render(pairs: Pair[], seconds: number): string {
  const lines = [
    `| polysocket, one room / one topic of ${config.clients} | deliveries/s | ratio | per server CPU-second | ratio | server CPU | generator CPU | room set-up | others |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const target of targets) {
    const mine = pairs.filter((p) => p.target === target.name);
    const med = (side: Side, read: (m: Measurement) => number) => median(mine.map((p) => read(p[side])));
    lines.push(
      `| ${target.label} ${pairCells(
        mine.map((p) => p.room),
        mine.map((p) => p.topic),
      )}` +
        `| ${(med("room", (m) => m.setupMs ?? Number.NaN) / 1000).toFixed(1)} s ` +
        `| ${Math.round(median(mine.map(others)) * 100)}% |`,
    );
  }
  const m = machine();
  lines.push(
    "",
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, shared with other work; both servers on core 0, both generators on core 1 (pinned: ${m.pinned}); ` +
      `Node ${m.node}, Bun ${m.bun}, ${m.deno}. ${config.rounds} rounds, medians (in brackets: the lowest and highest per-round ratio); ` +
      `room: Rooms (in memory, defaults), ${config.clients} members each sending publish frames of ${config.size} bytes of data round-robin, delivered as message frames; ` +
      `topic: ${config.clients} subscribers, ${config.size}-byte messages published by the server; ${config.window} in flight each; ` +
      `both measured over the same ${config.measureMs} ms, at least ${config.warmupMs} ms after the room's set-up (its members joining, each join's presence sent to everyone); ${Math.round(seconds)} s in all.`,
  );
  return `${lines.join("\n")}\n`;
}

const started = Date.now();
const pairs: Pair[] = [];
for (let round = 1; round <= config.rounds; round++) {
  for (const target of targets) {
    const pair = await runPair(target, round).catch((error: Error) => {
      console.error(`  ! ${target.name} round ${round} failed: ${error.message.split("\n")[0]}`);
      return undefined;
    });
    if (!pair) continue;
    pairs.push(pair);
    console.log(
      `[round ${round}/${config.rounds}] ${target.name.padEnd(9)} room ${formatNumber(pair.room.rate)}, topic ${formatNumber(pair.topic.rate)} deliveries/s` +
        `, server cpu ${Math.round(pair.room.serverCpu * 100)}% / ${Math.round(pair.topic.serverCpu * 100)}%` +
        `, room set-up ${Math.round(pair.room.setupMs ?? 0)} ms, others ${Math.round(others(pair) * 100)}%`,
    );
  }
}
const seconds = (Date.now() - started) / 1000;
mkdirSync(out, { recursive: true });
const table = render(pairs, seconds);
writeFileSync(
  `${out}/paired.json`,
  `${JSON.stringify({ date: new Date().toISOString(), config, pairs }, null, 2)}\n`,
);
writeFileSync(`${out}/paired.md`, table);
console.log(`\n${table}\nwritten to ${out}/paired.json and paired.md`);
process.exit(0);
