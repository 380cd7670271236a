/**
 * `npm run bench`: every scenario against polysocket and the raw baseline of
 * each runtime, in one run, alternating which goes first, several rounds;
 * medians and ratios go to results.json, results.md and chart.svg. With
 * `--paired`, both servers run at once instead, measured side by side.
 * `npm run bench -- --help` lists the flags.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type Config, OWN_PROCESS, parseConfig, ROOMS_SERVER, type Scenario, type Target } from "./config.ts";
import type { Job } from "./job.ts";
import { type Measurement, runLoad, ServerProcess, withIdleConnections } from "./processes.ts";
import { runRedis } from "./redis.ts";
import { BUSY, machine, type Results, renderChart, renderTable, summarize } from "./report.ts";
import { formatNumber } from "./stats.ts";

/** One reading of one scenario on one implementation. */
export interface Sample {
  target: string;
  impl: Impl;
  scenario: string;
  round: number;
  /** In the scenario's unit; NaN if the measurement failed. */
  value: number;
  generatorCpu?: number;
  serverCpu?: number;
  otherCpu?: number;
  /**
   * connrate: sockets in TIME_WAIT on the machine when the measurement started
   * (Linux). Each closed connection leaves one for 60 s, and a server accepts
   * measurably slower with tens of thousands of them around.
   */
  timeWait?: number;
  /** topicmem, roommem, roomtopicmem: the server's JS heap growth per subscription (room, topic), in bytes (`value` is RSS). */
  heap?: number;
  /** room: ms until every member was in and had its join's frames (the join storm). */
  setupMs?: number;
}

export type Impl = "polysocket" | "raw";

const started = Date.now();

/** Starts a fresh server process of `impl` on `target`; `rooms`: polysocket's is the rooms server. */
function startServer(config: Config, target: Target, impl: Impl, rooms = false): Promise<ServerProcess> {
  const file = impl === "polysocket" ? (rooms ? "rooms.ts" : "polysocket.ts") : target.raw;
  const headers: Record<string, string> = config.keepHeaders ? { POLYSOCKET_KEEP_HEADERS: "1" } : {};
  const compression: Record<string, string> = config.compression ? { BENCH_COMPRESSION: "1" } : {};
  const env = impl === "polysocket" ? { ...target.env, ...headers, ...compression } : compression;
  return ServerProcess.start(target.runtime, file, env);
}

/**
 * Starts a fresh server for `impl` on `target` and runs every scenario against it,
 * memory first; a scenario of {@link OWN_PROCESS} gets a fresh server of its own,
 * and those of {@link ROOMS_SERVER} share one rooms server.
 */
async function runImpl(config: Config, target: Target, impl: Impl, round: number): Promise<Sample[]> {
  const alone = config.scenarios.filter((s) => OWN_PROCESS.includes(s.name));
  const shared = config.scenarios.filter((s) => !alone.includes(s));
  const groups = [
    shared.filter((s) => !ROOMS_SERVER.includes(s.name)),
    shared.filter((s) => ROOMS_SERVER.includes(s.name)),
    ...alone.map((s) => [s]),
  ];
  const done: Sample[] = [];
  for (const group of groups) {
    if (group.length === 0) continue;
    const rooms = ROOMS_SERVER.includes(group[0]!.name);
    const server = await startServer(config, target, impl, rooms).catch((error: Error) => {
      // A server that cannot start fails its scenarios of this round, not the whole run.
      console.error(
        `  ! ${target.name} ${impl} did not start: ${error.message.split("\n").slice(0, 4).join(" ")}`,
      );
      for (const scenario of group) {
        done.push({ target: target.name, impl, scenario: scenario.name, round, value: Number.NaN });
      }
      return undefined;
    });
    if (!server) continue;
    try {
      for (const scenario of group) {
        const sample = await runScenario(config, server, scenario);
        done.push({ target: target.name, impl, scenario: scenario.name, round, ...sample });
        progress(config, round, target, impl, scenario, sample);
      }
    } finally {
      await server.kill();
    }
  }
  // In the order of the scenarios, whichever process measured them.
  const order = (sample: Sample) => config.scenarios.findIndex((s) => s.name === sample.scenario);
  return done.sort((a, b) => order(a) - order(b));
}

/**
 * `--paired`: both servers of `target` at once, each scenario measured on both at
 * the same time by two generators. Each side's "other work on the machine" then
 * includes the other side's server and generator, so those are subtracted again.
 */
async function runPair(config: Config, target: Target, round: number): Promise<Sample[]> {
  const pair = await Promise.all([
    startServer(config, target, "polysocket"),
    startServer(config, target, "raw"),
  ]);
  const done: Sample[] = [];
  try {
    for (const scenario of config.scenarios) {
      const load = (server: ServerProcess) =>
        runLoad(jobFor(config, scenario, `ws://127.0.0.1:${server.port}/`), server);
      const timeWait = scenario.name === "connrate" ? timeWaitSockets() : undefined;
      const both = await Promise.all([load(pair[0]), load(pair[1])]).catch((error: Error) => {
        console.error(`  ! ${scenario.name} failed: ${error.message.split("\n")[0]}`);
        return undefined;
      });
      const sides: Array<[Impl, Measured]> = [
        ["polysocket", both ? measured(scenario, both[0], timeWait, both[1]) : { value: Number.NaN }],
        ["raw", both ? measured(scenario, both[1], timeWait, both[0]) : { value: Number.NaN }],
      ];
      for (const [impl, sample] of sides) {
        done.push({ target: target.name, impl, scenario: scenario.name, round, ...sample });
        progress(config, round, target, impl, scenario, sample);
      }
    }
  } finally {
    await Promise.all(pair.map((server) => server.kill()));
  }
  return done;
}

type Measured = Pick<
  Sample,
  "value" | "generatorCpu" | "serverCpu" | "otherCpu" | "timeWait" | "heap" | "setupMs"
>;

/**
 * A generator's measurement in the scenario's unit. `pairedWith`: the measurement
 * taken at the same time on the other server (`--paired`), whose server and
 * generator do not count as other work on the machine.
 */
function measured(
  scenario: Scenario,
  own: Measurement,
  timeWait?: number,
  pairedWith?: Measurement,
): Measured {
  const pairCpu = pairedWith ? pairedWith.serverCpu + pairedWith.cpu : 0;
  return {
    value: scenario.name === "large" ? own.rate / 1e6 : own.rate,
    generatorCpu: own.cpu,
    serverCpu: own.serverCpu,
    otherCpu: Math.max(0, own.otherCpu - pairCpu),
    timeWait,
    ...(own.setupMs !== undefined && { setupMs: own.setupMs }),
  };
}

/** TCP sockets in TIME_WAIT machine-wide, from /proc/net/sockstat; undefined off Linux. */
function timeWaitSockets(): number | undefined {
  try {
    const match = /^TCP:.*\btw (\d+)/m.exec(readFileSync("/proc/net/sockstat", "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function runScenario(config: Config, server: ServerProcess, scenario: Scenario): Promise<Measured> {
  const job = jobFor(config, scenario, `ws://127.0.0.1:${server.port}/`);
  try {
    if (scenario.name === "memory") return { value: await idleMemory(server, job) };
    if (scenario.name === "topicmem") return await subscriptionMemory(server, job);
    if (scenario.name === "roommem" || scenario.name === "roomtopicmem") {
      const command = scenario.name === "roommem" && server.rooms ? "join" : "subscribe";
      return await roomMemory(server, job, command, config.roomsPerConnection);
    }
    const timeWait = scenario.name === "connrate" ? timeWaitSockets() : undefined;
    const result = await quietestOf(config.retries, () => runLoad(job, server));
    return measured(scenario, result, timeWait);
  } catch (error) {
    console.error(`  ! ${scenario.name} failed: ${(error as Error).message.split("\n")[0]}`);
    return { value: Number.NaN };
  }
}

/**
 * Runs `measure`, and again up to `retries` times while other users' work took
 * more than {@link BUSY} cores in the window; keeps the quietest attempt. The same
 * rule applies to both implementations, so it cannot favour either.
 */
async function quietestOf(retries: number, measure: () => Promise<Measurement>): Promise<Measurement> {
  let best = await measure();
  for (let attempt = 0; attempt < retries && best.otherCpu > BUSY; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 2000)); // let a burst of other work pass
    const next = await measure();
    if (next.otherCpu < best.otherCpu) best = next;
  }
  return best;
}

/**
 * RSS growth per idle connection, in KB, every reading after a full GC. Measured
 * over a second batch of N connections while a first batch stays open, so one-off
 * growth (JIT code, heap spaces sized by the first burst) is not charged per connection.
 */
async function idleMemory(server: ServerProcess, job: Job): Promise<number> {
  const settledRss = async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return server.rss();
  };
  return withIdleConnections(job, async () => {
    const before = await settledRss();
    const after = await withIdleConnections(job, settledRss);
    return (after - before) / job.clients / 1000;
  });
}

/**
 * Memory per subscription, in bytes: the same connections measured (after a full
 * GC) in no topic, then once the server has subscribed each to 3 topics. RSS is
 * the value; the JS heap's growth is kept too (Bun's topics live outside it).
 */
async function subscriptionMemory(server: ServerProcess, job: Job): Promise<Measured> {
  const settled = async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return server.memory();
  };
  return withIdleConnections(job, async () => {
    const before = await settled();
    const subscriptions = await server.subscribeAll();
    if (subscriptions !== job.clients * 3) {
      throw new Error(`expected ${job.clients * 3} subscriptions, the server made ${subscriptions}`);
    }
    const after = await settled();
    return {
      value: (after.rss - before.rss) / subscriptions,
      heap: (after.heap - before.heap) / subscriptions,
    };
  });
}

/**
 * Memory per idle room (`join`) or per idle topic (`subscribe`), in bytes: the
 * same connections measured (after a full GC) in none, then once the server has
 * put each in `distinct` rooms (topics) of its own, one member each. RSS is the
 * value; the JS heap's growth is kept too.
 */
async function roomMemory(
  server: ServerProcess,
  job: Job,
  command: "join" | "subscribe",
  distinct: number,
): Promise<Measured> {
  const settled = async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return server.memory();
  };
  return withIdleConnections(job, async () => {
    const before = await settled();
    const made = await server.subscribeAll(command, distinct);
    if (made !== job.clients * distinct) {
      throw new Error(`expected ${job.clients * distinct} from "${command}", the server made ${made}`);
    }
    const after = await settled();
    return { value: (after.rss - before.rss) / made, heap: (after.heap - before.heap) / made };
  });
}

function jobFor(config: Config, scenario: Scenario, url: string): Job {
  const { warmupMs, measureMs, window, compression: json } = config;
  const base = { url, warmupMs, measureMs, window, json };
  switch (scenario.name) {
    case "memory":
      return { ...base, scenario: "memory", clients: config.idleConnections, size: 0 };
    case "connrate":
      return { ...base, scenario: "connrate", clients: config.dialers, size: 0 };
    case "echo":
      return { ...base, scenario: "echo", clients: config.echoClients, size: config.size };
    case "large":
      return { ...base, scenario: "large", clients: 1, size: config.largeSize };
    case "fanout":
      return { ...base, scenario: "fanout", clients: config.fanoutClients, size: config.size };
    case "topic":
      return {
        ...base,
        scenario: "topics",
        clients: config.fanoutClients,
        size: config.size,
        topics: 1,
        fan: 1,
      };
    case "topics": {
      const clients = config.topicCount * config.topicSize;
      const fan = config.fanoutClients / config.topicSize; // as many deliveries per message as "topic"
      return { ...base, scenario: "topics", clients, size: config.size, topics: config.topicCount, fan };
    }
    case "topicmem":
      return { ...base, scenario: "memory", clients: config.subscribedConnections, size: 0, subs: true };
    case "room":
      return { ...base, scenario: "room", clients: config.fanoutClients, size: config.size };
    case "roommem":
    case "roomtopicmem":
      return { ...base, scenario: "memory", clients: config.roomConnections, size: 0, subs: true };
  }
}

function progress(
  config: Config,
  round: number,
  target: Target,
  impl: Impl,
  scenario: Scenario,
  sample: Measured,
): void {
  const cpu = (share?: number) => (share === undefined ? "" : `${Math.round(share * 100)}%`);
  const load =
    sample.generatorCpu === undefined
      ? ""
      : `  cpu: generator ${cpu(sample.generatorCpu)}, server ${cpu(sample.serverCpu)}, others ${cpu(sample.otherCpu)}`;
  const waiting = sample.timeWait === undefined ? "" : `, TIME_WAIT ${formatNumber(sample.timeWait)}`;
  const setup = sample.setupMs === undefined ? "" : `, everyone in after ${Math.round(sample.setupMs)} ms`;
  const elapsed = Math.round((Date.now() - started) / 1000);
  console.log(
    `[${elapsed}s round ${round}/${config.rounds}] ${target.name.padEnd(9)} ${scenario.name.padEnd(8)} ${impl.padEnd(10)} ${formatNumber(sample.value).padStart(7)} ${scenario.unit}${load}${waiting}${setup}`,
  );
}

/** Runs every round, then writes the results. */
async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2));
  const samples: Sample[] = [];
  mkdirSync(config.out, { recursive: true });
  if (config.quick && !config.redis)
    console.log("--quick: skipping the redis scenario (run it with --scenarios redis)");
  if (config.redis) {
    console.log(`\n${await runRedis(config)}\nwritten to ${config.out}/results-redis.json and .md\n`);
  }
  if (config.scenarios.length === 0) return;

  for (let round = 1; round <= config.rounds; round++) {
    for (const target of config.targets) {
      if (config.paired) {
        samples.push(...(await runPair(config, target, round)));
        continue;
      }
      // Alternate which implementation goes first, so neither always gets the warmer machine.
      const order: Impl[] = round % 2 ? ["polysocket", "raw"] : ["raw", "polysocket"];
      for (const impl of order) samples.push(...(await runImpl(config, target, impl, round)));
    }
  }

  const results: Results = summarize(config, samples, machine(), (Date.now() - started) / 1000);
  writeFileSync(`${config.out}/results.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${config.out}/results.md`, renderTable(results));
  writeFileSync(`${config.out}/chart.svg`, renderChart(results));
  console.log(
    `\n${renderTable(results)}\nwritten to ${config.out}/ in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

await main();
