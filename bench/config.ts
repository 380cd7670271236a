/**
 * What the benchmark runs: targets (a runtime, the polysocket server and the raw
 * baseline on it), scenarios with their sizes, and the command-line flags.
 */
import { parseArgs } from "node:util";

/** A scenario: what the generator does, and how its rate reads. */
export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  readonly unit: string;
  /** Higher is better for every scenario but memory. */
  readonly lowerIsBetter: boolean;
}

export type ScenarioName =
  | "memory"
  | "connrate"
  | "echo"
  | "large"
  | "fanout"
  | "topic"
  | "topics"
  | "topicmem"
  | "room"
  | "roommem"
  | "roomtopicmem";

/** Memory first: it needs a fresh server process; the others reuse it. */
export const SCENARIOS: readonly Scenario[] = [
  { name: "memory", title: "idle memory per connection", unit: "KB/conn", lowerIsBetter: true },
  { name: "connrate", title: "connection rate", unit: "conn/s", lowerIsBetter: false },
  { name: "echo", title: "echo round trips", unit: "round trips/s", lowerIsBetter: false },
  { name: "large", title: "1 MiB echo", unit: "MB/s", lowerIsBetter: false },
  { name: "fanout", title: "chat fan-out", unit: "deliveries/s", lowerIsBetter: false },
  { name: "topic", title: "one topic fan-out", unit: "deliveries/s", lowerIsBetter: false },
  { name: "topics", title: "many topics fan-out", unit: "deliveries/s", lowerIsBetter: false },
  { name: "topicmem", title: "memory per subscription", unit: "B/sub", lowerIsBetter: true },
  { name: "room", title: "one room fan-out", unit: "deliveries/s", lowerIsBetter: false },
  { name: "roommem", title: "memory per idle room", unit: "B/room", lowerIsBetter: true },
  {
    name: "roomtopicmem",
    title: "memory per idle topic, rooms' layout",
    unit: "B/topic",
    lowerIsBetter: true,
  },
];

/** Scenarios run in a server process of their own (they read its memory from a known start). */
export const OWN_PROCESS: readonly ScenarioName[] = ["topicmem", "roommem", "roomtopicmem"];

/**
 * Scenarios whose polysocket server is bench/servers/rooms.ts (`Rooms` on a
 * `Server`) rather than polysocket.ts; the raw servers serve them as topics.
 */
export const ROOMS_SERVER: readonly ScenarioName[] = ["room", "roommem", "roomtopicmem"];

/** Scenarios `--quick` leaves out unless named (each would add seconds to the CI smoke run). */
const NOT_QUICK: readonly ScenarioName[] = ["topicmem", "room", "roommem", "roomtopicmem"];

export type Runtime = "node" | "bun" | "deno";

/** A runtime, the polysocket server on it, and the hand-written baseline it is compared with. */
export interface Target {
  readonly name: string;
  readonly runtime: Runtime;
  readonly label: string;
  readonly raw: string;
  readonly rawLabel: string;
  readonly env?: Readonly<Record<string, string>>;
}

export const TARGETS: readonly Target[] = [
  { name: "node", runtime: "node", label: "Node", raw: "raw-node.ts", rawLabel: "ws loop" },
  { name: "bun", runtime: "bun", label: "Bun", raw: "raw-bun.ts", rawLabel: "Bun.serve + publish" },
  {
    name: "deno",
    runtime: "deno",
    label: "Deno",
    raw: "raw-deno.ts",
    rawLabel: "Deno.upgradeWebSocket loop",
  },
  {
    name: "deno-node",
    runtime: "deno",
    label: "Deno, Node adapter",
    raw: "raw-deno.ts",
    rawLabel: "Deno.upgradeWebSocket loop",
    env: { POLYSOCKET_ADAPTER: "node" },
  },
];

/** Sizes and timings of one run. */
export interface Config {
  quick: boolean;
  rounds: number;
  targets: Target[];
  scenarios: Scenario[];
  /** Whether to run the multi-process fan-out through Redis (bench/redis.ts); never in --quick. */
  redis: boolean;
  /** redis: clients in the room, spread evenly over the server processes. */
  redisClients: number;
  /** fanout and topic: clients in the room or the one topic. */
  fanoutClients: number;
  /** topics: how many topics. */
  topicCount: number;
  /** topics: subscribers per topic (each message goes to fanoutClients / topicSize topics). */
  topicSize: number;
  /** topicmem: connections, each subscribed to 3 topics. */
  subscribedConnections: number;
  /** roommem and roomtopicmem: connections, each in `roomsPerConnection` rooms (topics) of its own. */
  roomConnections: number;
  roomsPerConnection: number;
  /** fanout: messages in flight. */
  window: number;
  /** fanout and echo: message bytes. */
  size: number;
  echoClients: number;
  idleConnections: number;
  dialers: number;
  largeSize: number;
  warmupMs: number;
  measureMs: number;
  /** Repeats of a measurement disturbed by other work on the machine. */
  retries: number;
  /** Whether polysocket servers keep every upgrade header (its default); off, they keep none, like the raw servers. */
  keepHeaders: boolean;
  /**
   * Servers compress (polysocket `compression: true`, raw `ws` `perMessageDeflate: true`, raw Bun's
   * shared compressor from 1024 bytes up) and fan-out messages are JSON.
   */
  compression: boolean;
  /**
   * Both servers of a target run at once on the server core, one generator each, and
   * each pair gives a ratio: machine noise hits both sides alike. Throughput scenarios only.
   */
  paired: boolean;
  /** Where results.json, results.md and chart.svg go. */
  out: string;
}

/** The scenarios `--paired` measures: rates (not memory, which needs one server per process). */
export const PAIRABLE: readonly ScenarioName[] = ["connrate", "echo", "large", "fanout", "topic", "topics"];

const USAGE = `npm run bench -- [flags]
  --quick               seconds-long smoke run (small sizes, 1 round), written to bench/results/quick
  --rounds N            rounds per measurement; medians are reported (default 3)
  --runtimes a,b        of ${TARGETS.map((t) => t.name).join(",")} (default all)
  --scenarios a,b       of ${SCENARIOS.map((s) => s.name).join(",")},redis (default all; redis: chat
                        fan-out through a redis-server started for the run, 1-3 processes; redis,
                        topicmem, room, roommem and roomtopicmem are not in --quick unless named)
  --redis-clients N     clients in the Redis room (default 300)
  --clients N           fan-out room size, the one topic's and the one room's (default 500; room:
                        polysocket's Rooms, members publishing frames, against each raw server's
                        topic; not in --quick unless named)
  --topics N            many topics: how many (default 1000); each message goes to
                        clients / topic-size of them in turn, so as many deliveries as to one topic
  --topic-size N        many topics: subscribers of each (default 5)
  --subscribed N        memory per subscription: connections, 3 topics each (default 10000;
                        not in --quick unless named)
  --room-connections N  memory per idle room (roommem) and per idle topic in the same layout
                        (roomtopicmem): connections (default 1000; not in --quick unless named)
  --rooms-per-connection N   rooms (topics) of its own each of those joins (default 10):
                        1000 × 10 = 10,000 rooms of one member each
  --window N            fan-out messages in flight (default 100)
  --size N              fan-out/echo message bytes (default 64)
  --echo-clients N      ping-ponging clients (default 50)
  --idle N              idle connections for the memory scenario (default 5000)
  --dialers N           parallel dialers for the connection rate (default 16)
  --warmup MS, --measure MS   per measurement (default 3000, 1500)
  --retries N           repeat a measurement while other processes use over 0.25 cores (default 3)
  --keep-headers        polysocket keeps every upgrade header for conn.headers (its default); without
                        the flag it keeps none (keepHeaders: false), as the raw servers do
  --compression         polysocket servers run with compression: true, the raw Node server with
                        ws's perMessageDeflate: true and the raw Bun server with Bun's shared
                        compressor, compressing from 1024 bytes up as ws does (Deno cannot);
                        fanout and topic messages are JSON text of --size bytes (the generator,
                        Bun's client, offers permessage-deflate)
  --paired              polysocket and the raw server run at the same time on the server core, one
                        generator each, so other work on the machine slows both alike; the ratio
                        is the inverse of their CPU cost per unit of work. connrate, echo, large,
                        fanout, topic and topics only (default those), written to bench/paired
  --out DIR             output directory (default bench, or bench/paired with --paired)`;

/** Parses the command line; prints usage and exits on --help or a bad flag. */
export function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      rounds: { type: "string" },
      runtimes: { type: "string" },
      scenarios: { type: "string" },
      clients: { type: "string" },
      topics: { type: "string" },
      "topic-size": { type: "string" },
      subscribed: { type: "string" },
      "room-connections": { type: "string" },
      "rooms-per-connection": { type: "string" },
      "redis-clients": { type: "string" },
      window: { type: "string" },
      size: { type: "string" },
      "echo-clients": { type: "string" },
      idle: { type: "string" },
      dialers: { type: "string" },
      warmup: { type: "string" },
      measure: { type: "string" },
      retries: { type: "string" },
      "keep-headers": { type: "boolean", default: false },
      compression: { type: "boolean", default: false },
      paired: { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const num = (value: string | undefined, full: number, small: number, min = 1) => {
    const n = value === undefined ? (quick ? small : full) : Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new TypeError(`expected an integer ≥ ${min}, got ${value}\n${USAGE}`);
    return n;
  };
  const paired = values.paired;
  const listed = values.scenarios?.split(",") ?? (paired ? [...PAIRABLE] : undefined);
  const unpairable = paired ? listed?.filter((name) => !PAIRABLE.includes(name as ScenarioName)) : [];
  if (unpairable?.length) {
    throw new TypeError(`--paired measures ${PAIRABLE.join(", ")} only, not ${unpairable.join(", ")}`);
  }
  const redis = listed ? listed.includes("redis") : !quick;
  const fanoutClients = num(values.clients, 500, 50);
  const topicSize = num(values["topic-size"], 5, 5);
  if (fanoutClients % topicSize) {
    throw new TypeError(`--clients (${fanoutClients}) must be a multiple of --topic-size (${topicSize})`);
  }
  const topicCount = num(values.topics, 1000, 20);
  if (fanoutClients / topicSize > topicCount) {
    throw new TypeError(
      `--topics (${topicCount}) must be at least --clients / --topic-size (${fanoutClients / topicSize})`,
    );
  }
  const others = listed?.filter((name) => name !== "redis").join(",");
  return {
    quick,
    rounds: num(values.rounds, 3, 1),
    targets: pick(TARGETS, values.runtimes, "runtime"),
    scenarios: others === "" ? [] : scenarios(others, quick),
    redis,
    redisClients: num(values["redis-clients"], 300, 30),
    fanoutClients,
    topicCount,
    topicSize,
    subscribedConnections: num(values.subscribed, 10_000, 1000),
    roomConnections: num(values["room-connections"], 1000, 100),
    roomsPerConnection: num(values["rooms-per-connection"], 10, 10),
    window: num(values.window, 100, 20),
    size: num(values.size, 64, 64),
    echoClients: num(values["echo-clients"], 50, 10),
    idleConnections: num(values.idle, 5000, 1000),
    dialers: num(values.dialers, 16, 4),
    largeSize: 1024 * 1024,
    warmupMs: num(values.warmup, 3000, 50),
    measureMs: num(values.measure, 1500, 200),
    retries: num(values.retries, 3, 0, 0),
    keepHeaders: values["keep-headers"],
    compression: values.compression,
    paired,
    out: values.out ?? (quick ? "bench/results/quick" : paired ? "bench/paired" : "bench"),
  };
}

/** The scenarios listed, or by default all of them (in --quick, all but {@link NOT_QUICK}). */
function scenarios(list: string | undefined, quick: boolean): Scenario[] {
  if (list !== undefined || !quick) return pick(SCENARIOS, list, "scenario");
  return SCENARIOS.filter((s) => !NOT_QUICK.includes(s.name));
}

function pick<T extends { name: string }>(all: readonly T[], list: string | undefined, what: string): T[] {
  if (list === undefined) return [...all];
  return list.split(",").map((name) => {
    const found = all.find((item) => item.name === name);
    if (!found) throw new TypeError(`unknown ${what} "${name}"; known: ${all.map((i) => i.name).join(", ")}`);
    return found;
  });
}
