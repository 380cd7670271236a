/**
 * Turns benchmark samples into results: medians, paired ratios, the machine
 * they ran on, a Markdown table and an SVG chart (drawn here from the numbers).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { type Config, SCENARIOS, TARGETS } from "./config.ts";
import { PINNED } from "./processes.ts";
import type { Impl, Sample } from "./run.ts";
import { formatNumber, median } from "./stats.ts";

/** Where the numbers were measured. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  bun: string;
  deno: string;
  /** Server pinned to core 0 and generator to core 1. */
  pinned: boolean;
}

/** One scenario on one target: medians of both implementations and their ratio. */
export interface Row {
  target: string;
  scenario: string;
  polysocket: number;
  raw: number;
  /** Median over rounds of polysocket/raw, each round's pair measured back to back. */
  ratio: number;
  /** Lowest and highest of those per-round ratios: how far one round can be trusted. */
  ratioRange: [number, number];
  /** Every measurement, by round, disturbed ones included. */
  samples: Record<Impl, number[]>;
  /** connrate: TIME_WAIT sockets on the machine as each of those measurements started. */
  timeWait?: Record<Impl, (number | null)[]>;
  /** Median CPU share of one core, generator and server, during the measuring window. */
  generatorCpu: Record<Impl, number>;
  serverCpu: Record<Impl, number>;
  /** Median CPU of everything else on the machine (other users) in the window, in cores. */
  otherCpu: Record<Impl, number>;
  /**
   * Median rate per server CPU-second (value / server CPU share): the server's efficiency,
   * which still compares servers when the generator, not the server, set the pace.
   */
  perServerCore: Record<Impl, number>;
  /** topicmem, roommem, roomtopicmem: median JS heap growth per subscription (room, topic), in bytes. */
  heap?: Record<Impl, number>;
  /** room: median ms until every member was in (the join storm before measuring). */
  setupMs?: Record<Impl, number>;
}

/** A ratio across targets, e.g. Node's polysocket fan-out over Bun's raw publish. */
export interface Comparison {
  what: string;
  ratio: number;
}

/** Everything a run produced; saved as results.json. */
export interface Results {
  date: string;
  durationSeconds: number;
  machine: Machine;
  config: Omit<Config, "targets" | "scenarios"> & { targets: string[]; scenarios: string[] };
  rows: Row[];
  comparisons: Comparison[];
}

/** The machine facts: cores, CPU model, memory and runtime versions. */
export function machine(): Machine {
  const bin = "node_modules/.bin";
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cpus: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    bun: execFileSync(`${bin}/bun`, ["--version"], { encoding: "utf8" }).trim(),
    deno: execFileSync(`${bin}/deno`, ["--version"], { encoding: "utf8" }).split("\n")[0]!.trim(),
    pinned: PINNED,
  };
}

/** Medians and ratios of `samples`, per target and scenario, in the config's order. */
export function summarize(
  config: Config,
  samples: Sample[],
  machine: Machine,
  durationSeconds: number,
): Results {
  const rows: Row[] = [];
  for (const target of config.targets) {
    for (const scenario of config.scenarios) {
      const mine = samples.filter((s) => s.target === target.name && s.scenario === scenario.name);
      rows.push(row(target.name, scenario.name, mine));
    }
  }
  const { targets, scenarios, ...rest } = config;
  return {
    date: new Date().toISOString(),
    durationSeconds: Math.round(durationSeconds),
    machine,
    config: { ...rest, targets: targets.map((t) => t.name), scenarios: scenarios.map((s) => s.name) },
    rows,
    comparisons: comparisons(rows),
  };
}

/** Other work on the machine above this many cores (CPU share) marks a measurement as disturbed. */
export const BUSY = 0.25;

const quiet = (sample: Sample) => (sample.otherCpu ?? 0) <= BUSY;

function row(target: string, scenario: string, samples: Sample[]): Row {
  const all = (impl: Impl) => samples.filter((s) => s.impl === impl);
  // Medians and ratios come from undisturbed measurements where each side has some.
  const clean = all("polysocket").some(quiet) && all("raw").some(quiet);
  const of = (impl: Impl) => all(impl).filter((s) => !clean || quiet(s));
  const values = (impl: Impl) => all(impl).map((s) => s.value);
  const waits = (impl: Impl) => all(impl).map((s) => s.timeWait ?? null);
  const ratios = of("polysocket").map((p) => {
    const raw = of("raw").find((r) => r.round === p.round);
    return raw ? p.value / raw.value : Number.NaN;
  });
  const medianOf = (impl: Impl) => median(of(impl).map((s) => s.value));
  const cpu = (key: "generatorCpu" | "serverCpu" | "otherCpu") => ({
    polysocket: median(of("polysocket").map((s) => s[key] ?? Number.NaN)),
    raw: median(of("raw").map((s) => s[key] ?? Number.NaN)),
  });
  return {
    target,
    scenario,
    polysocket: medianOf("polysocket"),
    raw: medianOf("raw"),
    // Median of same-round pairs; if no round has both sides undisturbed, the ratio of medians.
    ratio: ratios.some((r) => !Number.isNaN(r)) ? median(ratios) : medianOf("polysocket") / medianOf("raw"),
    ratioRange: range(ratios),
    samples: { polysocket: values("polysocket"), raw: values("raw") },
    ...(samples.some((s) => s.timeWait !== undefined) && {
      timeWait: { polysocket: waits("polysocket"), raw: waits("raw") },
    }),
    generatorCpu: cpu("generatorCpu"),
    serverCpu: cpu("serverCpu"),
    otherCpu: cpu("otherCpu"),
    perServerCore: {
      polysocket: median(of("polysocket").map((s) => s.value / (s.serverCpu ?? Number.NaN))),
      raw: median(of("raw").map((s) => s.value / (s.serverCpu ?? Number.NaN))),
    },
    ...(samples.some((s) => s.setupMs !== undefined) && {
      setupMs: {
        polysocket: median(of("polysocket").map((s) => s.setupMs ?? Number.NaN)),
        raw: median(of("raw").map((s) => s.setupMs ?? Number.NaN)),
      },
    }),
    ...(samples.some((s) => s.heap !== undefined) && {
      heap: {
        polysocket: median(of("polysocket").map((s) => s.heap ?? Number.NaN)),
        raw: median(of("raw").map((s) => s.heap ?? Number.NaN)),
      },
    }),
  };
}

/** Fan-out across runtimes: the comparisons the runtime choice hinges on. */
function comparisons(rows: Row[]): Comparison[] {
  const row = (target: string) => rows.find((r) => r.target === target && r.scenario === "fanout");
  const fanout = (target: string, impl: Impl) => row(target)?.[impl] ?? Number.NaN;
  const perCore = (target: string, impl: Impl) => row(target)?.perServerCore[impl] ?? Number.NaN;
  const list: Array<[string, number, number]> = [
    ["fan-out: polysocket on Node / Bun's raw publish", fanout("node", "polysocket"), fanout("bun", "raw")],
    [
      "fan-out per server CPU-second: polysocket on Node / Bun's raw publish",
      perCore("node", "polysocket"),
      perCore("bun", "raw"),
    ],
    [
      "fan-out: polysocket on Bun / polysocket on Node",
      fanout("bun", "polysocket"),
      fanout("node", "polysocket"),
    ],
    [
      "fan-out: polysocket on Deno / polysocket on Node",
      fanout("deno", "polysocket"),
      fanout("node", "polysocket"),
    ],
    [
      "fan-out: polysocket on Deno with the Node adapter / polysocket on Node",
      fanout("deno-node", "polysocket"),
      fanout("node", "polysocket"),
    ],
  ];
  const rate = (target: string, scenario: string, impl: Impl) =>
    rows.find((r) => r.target === target && r.scenario === scenario)?.[impl] ?? Number.NaN;
  for (const target of TARGETS) {
    for (const impl of ["polysocket", "raw"] as const) {
      const who = impl === "polysocket" ? "polysocket" : target.rawLabel;
      list.push([
        `many topics / one topic, deliveries/s: ${who} on ${target.label}`,
        rate(target.name, "topics", impl),
        rate(target.name, "topic", impl),
      ]);
    }
    list.push([
      `one topic / chat fan-out (broadcast), deliveries/s: polysocket on ${target.label}`,
      rate(target.name, "topic", "polysocket"),
      rate(target.name, "fanout", "polysocket"),
    ]);
  }
  list.push(...roomComparisons(rows));
  return list
    .filter(([, a, b]) => !Number.isNaN(a / b))
    .map(([what, a, b]) => ({ what, ratio: round(a / b) }));
}

/**
 * Rooms against topics, polysocket's own: the one room over the one topic (per
 * second, and per server CPU-second, which still compares them when the
 * generator sets the pace), and an idle room's memory over an idle topic's.
 */
function roomComparisons(rows: Row[]): Array<[string, number, number]> {
  const find = (target: string, scenario: string) =>
    rows.find((r) => r.target === target && r.scenario === scenario);
  const list: Array<[string, number, number]> = [];
  for (const target of TARGETS) {
    const [room, topic] = [find(target.name, "room"), find(target.name, "topic")];
    const [roomMem, topicMem] = [find(target.name, "roommem"), find(target.name, "roomtopicmem")];
    const on = `polysocket on ${target.label}`;
    if (room && topic) {
      list.push(
        [`one room / one topic, deliveries/s: ${on}`, room.polysocket, topic.polysocket],
        [
          `one room / one topic, per server CPU-second: ${on}`,
          room.perServerCore.polysocket,
          topic.perServerCore.polysocket,
        ],
      );
    }
    if (roomMem && topicMem) {
      list.push([`idle room / idle topic, RSS: ${on}`, roomMem.polysocket, topicMem.polysocket]);
      if (roomMem.heap && topicMem.heap) {
        list.push([
          `idle room / idle topic, JS heap: ${on}`,
          roomMem.heap.polysocket,
          topicMem.heap.polysocket,
        ]);
      }
    }
  }
  return list;
}

const round = (value: number) => Math.round(value * 100) / 100;
const label = (name: string) => TARGETS.find((t) => t.name === name)!;
/** Lowest and highest of `values`, failed ones (NaN) left out; NaN for none. */
function range(values: readonly number[]): [number, number] {
  const known = values.filter((v) => !Number.isNaN(v));
  return known.length ? [Math.min(...known), Math.max(...known)] : [Number.NaN, Number.NaN];
}

const scenarioOf = (name: string) => SCENARIOS.find((s) => s.name === name)!;

/** The per-round ratios' range, e.g. " (0.81–1.04)"; empty with fewer than two rounds. */
function spread(row: Row): string {
  const [low, high] = row.ratioRange;
  return Number.isNaN(low) || low === high ? "" : ` (${low.toFixed(2)}–${high.toFixed(2)})`;
}

/** The Markdown table: per scenario and target, polysocket vs raw and the ratio. */
export function renderTable(results: Results): string {
  const targets = [...new Set(results.rows.map((r) => r.target))];
  const scenarios = [...new Set(results.rows.map((r) => r.scenario))];
  const head = targets.map((t) => `${label(t).label}: polysocket / ${label(t).rawLabel}`);
  const lines = [`| scenario | ${head.join(" | ")} |`, `| --- |${" --- |".repeat(targets.length)}`];
  for (const scenario of scenarios) {
    const info = scenarioOf(scenario);
    const cells = targets.map((target) => {
      const r = results.rows.find((row) => row.target === target && row.scenario === scenario)!;
      const mark = generatorBound(results, r) ? "†" : "";
      return `${formatNumber(r.polysocket)} / ${formatNumber(r.raw)} = **${r.ratio.toFixed(2)}x**${mark}${spread(r)}`;
    });
    lines.push(`| ${info.title} (${info.unit}) | ${cells.join(" | ")} |`);
  }
  lines.push("", ...boundNote(results), ...fanoutDetail(results), ...heapNote(results));
  const m = results.machine;
  const more = results.comparisons.map((c) => `- ${c.what}: **${c.ratio.toFixed(2)}x**`);
  const sizes = [
    `${results.config.rounds} rounds, medians (in brackets: the lowest and highest per-round ratio)`,
    ...settings(results.config),
  ].join("; ");
  return [
    ...lines,
    "",
    ...more,
    "",
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB${m.pinned ? " (server on core 0, generator on core 1)" : ""}; Node ${m.node}, Bun ${m.bun}, ${m.deno}. ${sizes}.`,
    "",
  ].join("\n");
}

/** The sizes of the scenarios that ran, what polysocket kept, and how the two servers ran. */
function settings(config: Results["config"]): string[] {
  const ran = (name: string) => config.scenarios.includes(name);
  return [
    ran("fanout") &&
      `fan-out ${config.fanoutClients} clients × ${config.size}-byte messages, ${config.window} in flight`,
    ran("topic") && `one topic of ${config.fanoutClients} subscribers, ${config.window} messages in flight`,
    ran("topics") &&
      `many topics: ${config.topicCount} topics × ${config.topicSize} subscribers, each message published to the next ${config.fanoutClients / config.topicSize} topics in turn (as many deliveries as one topic)`,
    ran("topicmem") &&
      `memory per subscription: ${config.subscribedConnections} connections, RSS in no topic and then in 3 topics each`,
    ran("room") &&
      `one room: polysocket's Rooms (in memory, defaults), ${config.fanoutClients} members sending publish frames of ${config.size} bytes of data round-robin, ${config.window} in flight, each delivered as a message frame to every member; the raw servers relay the same frames to one topic`,
    (ran("roommem") || ran("roomtopicmem")) &&
      `memory per idle room: ${config.roomConnections} connections accepted by Rooms, RSS in no room and then in ${config.roomsPerConnection} rooms of their own each (${config.roomConnections * config.roomsPerConnection} rooms of one member; the raw servers, and polysocket in "idle topic", subscribe them to as many topics of their own instead)`,
    ran("echo") && `echo ${config.echoClients} clients × ${config.size} bytes`,
    ran("memory") && `memory over ${config.idleConnections} idle connections`,
    `polysocket keeps ${config.keepHeaders ? "every upgrade header (its default)" : "no upgrade headers (keepHeaders: false), like the raw servers"}`,
    config.paired &&
      "paired: polysocket and the raw server ran at the same time on the server core, one generator each",
  ].filter((part): part is string => typeof part === "string");
}

/** Generator CPU (one core = 1) from which a rate is the generator's as much as the server's. */
const SATURATED = 0.9;

/**
 * Whether the generator's core was (nearly) full during a row's measurements: then
 * the rate says what the generator could drive, and the servers' CPU tells them apart.
 * Paired, both generators share the core.
 */
function generatorBound(results: Results, row: Row): boolean {
  const { polysocket, raw } = row.generatorCpu;
  const busiest = results.config.paired ? polysocket + raw : Math.max(polysocket, raw);
  return busiest >= SATURATED;
}

/** The footnote for rows marked †: their ratio per server CPU-second. */
function boundNote(results: Results): string[] {
  const bound = results.rows.filter((r) => generatorBound(results, r));
  if (bound.length === 0) return [];
  const perCore = bound.map((r) => {
    const ratio = r.perServerCore.polysocket / r.perServerCore.raw;
    return `${label(r.target).label} ${scenarioOf(r.scenario).title} ${ratio.toFixed(2)}x`;
  });
  return [
    `† The generator's core was ${Math.round(SATURATED * 100)} % busy or more: the rate is partly the generator's. Per server CPU-second, polysocket / raw: ${perCore.join(", ")}.`,
    "",
  ];
}

/** Fan-out per target: throughput, throughput per server CPU-second, and who was busy. */
function fanoutDetail(results: Results): string[] {
  const rows = results.rows.filter((r) => r.scenario === "fanout");
  if (rows.length === 0) return [];
  const pct = (share: number) => (Number.isNaN(share) ? "–" : `${Math.round(share * 100)}%`);
  const pair = (values: Record<Impl, number>, show: (v: number) => string) =>
    `${show(values.polysocket)} / ${show(values.raw)}`;
  return [
    "| chat fan-out, polysocket / raw | deliveries/s | per server CPU-second | server CPU | generator CPU |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) => {
      const cells = [
        pair(r, formatNumber),
        pair(r.perServerCore, formatNumber),
        pair(r.serverCpu, pct),
        pair(r.generatorCpu, pct),
      ];
      return `| ${label(r.target).label} | ${cells.join(" | ")} |`;
    }),
  ];
}

/** The memory scenarios: the JS heap's share of them (Bun keeps its native topics outside the heap). */
function heapNote(results: Results): string[] {
  const lines: string[] = [];
  for (const scenario of SCENARIOS) {
    const rows = results.rows.filter((r) => r.heap && r.scenario === scenario.name);
    if (rows.length === 0) continue;
    const each = rows.map(
      (r) => `${label(r.target).label} ${formatNumber(r.heap!.polysocket)} / ${formatNumber(r.heap!.raw)}`,
    );
    const what = scenario.title[0]!.toUpperCase() + scenario.title.slice(1);
    lines.push("", `${what}, JS heap only (${scenario.unit}, polysocket / raw): ${each.join(", ")}.`);
  }
  return lines;
}

const WIDTH = 760;
const LABEL = 190;
const BAR = 13;
const COLORS: Record<Impl, string> = { polysocket: "#2f6fdf", raw: "#a8a8a8" };

/** A bar chart, one panel per scenario: polysocket and raw side by side for each target. */
export function renderChart(results: Results): string {
  const targets = [...new Set(results.rows.map((r) => r.target))];
  const scenarios = [...new Set(results.rows.map((r) => r.scenario))];
  const parts: string[] = [];
  let y = 34;
  for (const scenario of scenarios) {
    const rows = results.rows.filter((r) => r.scenario === scenario);
    const max = Math.max(...rows.flatMap((r) => [r.polysocket, r.raw]).filter((v) => !Number.isNaN(v)), 1e-9);
    const info = scenarioOf(scenario);
    const better = info.lowerIsBetter ? "lower is better" : "higher is better";
    parts.push(text(10, y, `${info.title} (${info.unit}, ${better})`, 'font-weight="bold"'));
    y += 10;
    for (const target of targets) {
      const r = rows.find((row) => row.target === target)!;
      parts.push(text(LABEL - 8, y + BAR + 3, label(target).label, 'text-anchor="end"'));
      for (const impl of ["polysocket", "raw"] as const) {
        const value = r[impl];
        const width = Number.isNaN(value) ? 0 : ((WIDTH - LABEL - 110) * value) / max;
        parts.push(
          `<rect x="${LABEL}" y="${y}" width="${width.toFixed(1)}" height="${BAR - 2}" fill="${COLORS[impl]}"/>`,
          text(LABEL + width + 4, y + BAR - 3, barLabel(r, impl), 'font-size="10"'),
        );
        y += BAR;
      }
      y += 6;
    }
    y += 18;
  }
  const legend = [
    `<rect x="10" y="8" width="10" height="10" fill="${COLORS.polysocket}"/>`,
    text(24, 17, "polysocket"),
    `<rect x="100" y="8" width="10" height="10" fill="${COLORS.raw}"/>`,
    text(114, 17, "raw server on the same runtime (ws loop, Bun publish, Deno.upgradeWebSocket loop)"),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif" font-size="12" role="img">`,
    "<title>polysocket vs the raw server of each runtime, per scenario</title>",
    `<rect width="100%" height="100%" fill="white"/>`,
    ...legend,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

/** A bar's number; polysocket's also carries its ratio to raw. */
function barLabel(row: Row, impl: Impl): string {
  const value = formatNumber(row[impl]);
  return impl === "raw" || Number.isNaN(row.ratio) ? value : `${value}  (${row.ratio.toFixed(2)}x)`;
}

function text(x: number, y: number, content: string, attributes = ""): string {
  const escaped = content.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<text x="${x.toFixed(1)}" y="${y}" ${attributes}>${escaped}</text>`;
}
