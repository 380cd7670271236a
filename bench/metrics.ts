/**
 * `npm run bench:metrics`: what metrics cost on fan-out. On each runtime, two
 * polysocket benchmark servers (bench/servers/polysocket.ts) run at once on the
 * server core, one with Prometheus metrics on (`BENCH_METRICS=1`) and one
 * without, each fed by its own generator publishing to one topic of 500; machine
 * noise then hits both alike. Each round gives ratios (on / off) of deliveries
 * per second and of deliveries per server CPU-second; their medians go to
 * bench/metrics/results.{json,md}. After each round the metrics-on server is
 * scraped, to show it counted the deliveries it made.
 *
 * `--baseline DIR` measures the cost of the seam itself instead: the server
 * with metrics off against DIR's copy of the repository (a `git worktree` of
 * the commit before metrics existed, with node_modules linked), written to
 * bench/metrics/baseline.{json,md}.
 *
 * `--scenario echo` measures echo round trips instead (50 clients ping-ponging
 * 64-byte text: the per-message worst case, every message sized twice),
 * written to results-echo.{json,md} (baseline-echo with --baseline).
 *
 * Flags: --rounds N (default 5), --runtimes a,b (node,bun,deno,deno-node),
 * --clients N (500), --size N (64), --warmup MS (3000), --measure MS (1500),
 * --quick (1 round, 50 clients, short windows; written to bench/results/quick-metrics).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { TARGETS, type Target } from "./config.ts";
import type { Job } from "./job.ts";
import { pairCells } from "./pair-cells.ts";
import { type Measurement, runLoad, ServerProcess } from "./processes.ts";
import { machine } from "./report.ts";
import { formatNumber, median } from "./stats.ts";

/** The side under test, and the one it is compared with. */
type Side = "on" | "off";

/** How one side's server starts. */
interface Launch {
  file: string;
  env: Record<string, string>;
}

/** One round on one target: both sides measured at the same time. */
interface Pair {
  target: string;
  round: number;
  on: Measurement;
  off: Measurement;
  /** polysocket_messages_sent_total of the metrics-on server after the round (NaN with --baseline). */
  counted: number;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string" },
    runtimes: { type: "string" },
    clients: { type: "string" },
    size: { type: "string" },
    warmup: { type: "string" },
    measure: { type: "string" },
    quick: { type: "boolean", default: false },
    baseline: { type: "string" },
    scenario: { type: "string", default: "topic" },
    out: { type: "string" },
  },
});
const quick = values.quick;
const num = (value: string | undefined, full: number, small: number) => {
  const n = value === undefined ? (quick ? small : full) : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`expected an integer ≥ 1, got ${value}`);
  return n;
};
const config = {
  rounds: num(values.rounds, 5, 1),
  clients: num(values.clients, 500, 50),
  size: num(values.size, 64, 64),
  warmupMs: num(values.warmup, 3000, 300),
  measureMs: num(values.measure, 1500, 300),
  window: 100,
};
const targets = (values.runtimes?.split(",") ?? TARGETS.map((t) => t.name)).map((name) => {
  const target = TARGETS.find((t) => t.name === name);
  if (!target)
    throw new TypeError(`unknown runtime "${name}"; known: ${TARGETS.map((t) => t.name).join(", ")}`);
  return target;
});
const out = values.out ?? (quick ? "bench/results/quick-metrics" : "bench/metrics");
const baseline = values.baseline;
const echo = values.scenario === "echo";
if (!echo && values.scenario !== "topic")
  throw new TypeError(`--scenario topic or echo, got ${values.scenario}`);
const name = `${baseline ? "baseline" : "results"}${echo ? "-echo" : ""}`;
/** What the table's first column and rates say. */
const WHAT = echo
  ? { title: "echo, 50 clients", unit: "round trips/s" }
  : { title: "", unit: "deliveries/s" };
/** What "on" and "off" are in this run. */
const LABELS: Record<Side, string> = baseline
  ? { on: "metrics off", off: `before metrics (${commitOf(baseline)})` }
  : { on: "metrics on", off: "metrics off" };

/** The short commit id checked out in `dir`. */
function commitOf(dir: string): string {
  return execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
}

/** The server of one side: --baseline's "off" is DIR's bench server (ServerProcess starts files under bench/servers). */
function launch(target: Target, side: Side): Launch {
  if (baseline && side === "off") {
    const up = "../".repeat(process.cwd().split("/").length - 1);
    const file = `../../${up}${baseline.replace(/^\//, "")}/bench/servers/polysocket.ts`;
    return { file, env: { ...target.env, TSX_TSCONFIG_PATH: `${baseline}/tsconfig.json` } };
  }
  const metrics: Record<string, string> = side === "on" && !baseline ? { BENCH_METRICS: "1" } : {};
  return { file: "polysocket.ts", env: { ...target.env, ...metrics } };
}

/** One topic of `clients`: every message a client sends is published to all of them. */
function job(port: number): Job {
  const { clients, size, window, warmupMs, measureMs } = config;
  const url = `ws://127.0.0.1:${port}/`;
  if (echo) return { scenario: "echo", url, clients: 50, size, window, warmupMs, measureMs };
  return { scenario: "topics", url, clients, size, topics: 1, fan: 1, window, warmupMs, measureMs };
}

async function runPair(target: Target, round: number): Promise<Pair> {
  // Alternate which server starts (and is measured) first.
  const sides: Side[] = round % 2 ? ["on", "off"] : ["off", "on"];
  const servers = await Promise.all(
    sides.map((side) => {
      const { file, env } = launch(target, side);
      return ServerProcess.start(target.runtime, file, env);
    }),
  );
  try {
    const measured = await Promise.all(servers.map((server) => runLoad(job(server.port), server)));
    const of = (side: Side) => measured[sides.indexOf(side)] as Measurement;
    const on = servers[sides.indexOf("on")] as ServerProcess;
    const counted = baseline ? Number.NaN : await sentCount(on.port);
    return { target: target.name, round, on: of("on"), off: of("off"), counted };
  } finally {
    await Promise.all(servers.map((server) => server.kill()));
  }
}

/** The metrics-on server's count of messages handed to connections, read from its scrape. */
async function sentCount(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const families = parsePrometheusTextFormat(text) as { name: string; metrics: { value: string }[] }[];
  const sent = families.find((family) => family.name === "polysocket_messages_sent_total");
  return Number(sent?.metrics[0]?.value ?? Number.NaN);
}

/** The results table: one row per runtime. */
function render(pairs: Pair[], seconds: number): string {
  const lines = [
    `| ${WHAT.title || `one topic of ${config.clients}`}, ${LABELS.on} / ${LABELS.off} | ${WHAT.unit} | ratio | per server CPU-second | ratio | server CPU | generator CPU | messages counted |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const target of targets) {
    const mine = pairs.filter((p) => p.target === target.name);
    lines.push(
      `| ${target.label} ${pairCells(
        mine.map((p) => p.on),
        mine.map((p) => p.off),
      )}` + `| ${formatNumber(median(mine.map((p) => p.counted)))} |`,
    );
  }
  const m = machine();
  lines.push(
    "",
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, shared with other work; both servers on core 0, both generators on core 1 (pinned: ${m.pinned}); ` +
      `Node ${m.node}, Bun ${m.bun}, ${m.deno}. ${config.rounds} rounds, medians (in brackets: the lowest and highest per-round ratio); ` +
      (echo
        ? `50 clients echoing ${config.size}-byte text; `
        : `${config.clients} clients in one topic, ${config.size}-byte messages, ${config.window} in flight; `) +
      `${config.warmupMs} ms warm-up, ${config.measureMs} ms measured; ${Math.round(seconds)} s in all. ` +
      (baseline
        ? "Both servers have metrics off: the cost of the observation seam's checks."
        : '"messages counted": polysocket_messages_sent_total scraped from the metrics-on server after its round (warm-up and measurement).'),
  );
  return `${lines.join("\n")}\n`;
}

const started = Date.now();
const pairs: Pair[] = [];
for (let round = 1; round <= config.rounds; round++) {
  for (const target of targets) {
    const pair = await runPair(target, round);
    pairs.push(pair);
    console.log(
      `[round ${round}/${config.rounds}] ${target.name.padEnd(9)} ${LABELS.on} ${formatNumber(pair.on.rate)}, ${LABELS.off} ${formatNumber(pair.off.rate)} ${WHAT.unit}` +
        `, server cpu ${Math.round(pair.on.serverCpu * 100)}% / ${Math.round(pair.off.serverCpu * 100)}%` +
        `, others ${Math.round(Math.max(0, pair.on.otherCpu - pair.off.serverCpu - pair.off.cpu) * 100)}%`,
    );
  }
}
const seconds = (Date.now() - started) / 1000;
mkdirSync(out, { recursive: true });
const table = render(pairs, seconds);
const record = { date: new Date().toISOString(), config, labels: LABELS, pairs };
writeFileSync(`${out}/${name}.json`, `${JSON.stringify(record, null, 2)}\n`);
writeFileSync(`${out}/${name}.md`, table);
console.log(`\n${table}\nwritten to ${out}/`);
