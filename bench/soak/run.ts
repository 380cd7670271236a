/**
 * Load and soak (issue #3):
 *   npm run soak -- [--runtimes node,bun,deno] [--quick] [--phases idle,cycles,chat] [--json FILE]
 *                   [--idle N] [--warmup N] [--cycles N] [--chat-seconds N] [--broadcast each]
 *
 * Per runtime: starts bench/soak/server.ts in that runtime, drives it with the
 * Bun load generator (bench/soak/load.ts) and reads the server's own RSS
 * (`process.memoryUsage().rss`) over a control connection. Three phases:
 *   1. idle:   N concurrent idle connections held across >= 2 heartbeat rounds; none may drop.
 *   2. cycles: connect/disconnect cycles; RSS after GC at the end within 10% of the start.
 *   3. chat:   one raw TCP client that never reads while M clients chat; RSS must plateau,
 *              the slow one must be closed with 1013, and no chatter may lose a message.
 * Loopback only; every wait is bounded. The last stdout line is `SOAK_RESULT {json}`.
 * Full runs write bench/soak/results.json and results.md (unless --json says otherwise).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { resolve as resolvePath } from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { binary, commandFor, ROOT, RUNTIMES, type Runtime } from "../../test/harness/runtimes.ts";

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = flag("quick");
const runtimes = (option("runtimes")?.split(",") ?? [...RUNTIMES]) as Runtime[];
for (const runtime of runtimes) {
  if (!RUNTIMES.includes(runtime)) throw new Error(`unknown runtime ${runtime}: node, bun or deno`);
}
const phases = new Set(option("phases")?.split(",") ?? ["idle", "cycles", "chat"]);
// "broadcast" (default): server.broadcast, one native publish on Bun. "each": conn.send per client.
const broadcast = option("broadcast") ?? "broadcast";
const jsonOut = option("json") ?? (quick ? undefined : "bench/soak/results.json");

const config = quick
  ? {
      // A 2 s timeout leaves room for a loaded machine (npm test runs suites in parallel).
      heartbeat: { interval: 1000, timeout: 2000 },
      idle: { count: 500 },
      cycles: { warmup: 500, count: 1000, concurrency: 20 },
      chat: { clients: 20, rate: 20, seconds: 6, size: 8192 },
    }
  : {
      heartbeat: { interval: 5000, timeout: 5000 },
      idle: { count: 10_000 },
      // Deno's RSS climbs for the first ~5,000 cycles, then stays flat (see docs/performance.md, Load and soak).
      cycles: { warmup: 10_000, count: 20_000, concurrency: 50 },
      chat: { clients: 100, rate: 10, seconds: 30, size: 1024 },
    };
// Overrides for exploring: --idle N, --warmup N, --cycles N, --chat-seconds N.
const override = (name: string, set: (value: number) => void) => {
  const value = option(name);
  if (value !== undefined) set(Number(value));
};
override("idle", (v) => {
  config.idle.count = v;
});
override("warmup", (v) => {
  config.cycles.warmup = v;
});
override("cycles", (v) => {
  config.cycles.count = v;
});
override("chat-seconds", (v) => {
  config.chat.seconds = v;
});
// Held across at least two ping rounds plus a timeout and a second of margin: a
// client that missed a pong would be dropped well inside this window.
const holdMs = 2 * config.heartbeat.interval + config.heartbeat.timeout + 1000;
const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

const say = (text: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${text}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stats {
  rss: number;
  heapUsed: number;
  connections: number;
  connectsTotal: number;
  disconnects: Record<string, number>;
  roles: Record<string, number>;
  slowBuffered?: number;
  gc?: string;
}
type Line = Record<string, unknown> & { ev: string };

/** A child process whose stdout is JSON lines, handed to `onLine`; other lines are echoed. */
function startChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  onLine: (line: Line) => void,
) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  createInterface({ input: child.stdout! }).on("line", (text) => {
    try {
      onLine(JSON.parse(text) as Line);
    } catch {
      say(`  | ${text}`);
    }
  });
  createInterface({ input: child.stderr! }).on("line", (text) => say(`  ! ${text}`));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited };
}

/** Runs one load-generator phase in Bun and resolves with its `result` line. */
async function generator(
  phase: string,
  params: Record<string, number>,
  onLine: (line: Line) => void = () => undefined,
  limitMs = 180_000,
) {
  const args = [
    "bench/soak/load.ts",
    phase,
    ...Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)]),
  ];
  let result: Line | undefined;
  const { child, exited } = startChild(binary("bun"), args, {}, (line) => {
    if (line.ev === "progress") {
      const { ev: _, ...rest } = line;
      say(
        `  ${phase}: ${Object.entries(rest)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
    }
    if (line.ev === "result") result = line;
    onLine(line);
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const code = await exited;
  clearTimeout(timer);
  if (!result) throw new Error(`load generator ${phase} exited ${code} without a result`);
  return result;
}

/** The server under test, with its control connection. */
async function startServer(runtime: Runtime, heartbeat?: { interval: number; timeout: number }) {
  const [command, args] = commandFor(runtime, "bench/soak/server.ts");
  // Expose the GC so /gc can collect before measuring (Bun has Bun.gc).
  if (runtime === "node") args.unshift("--expose-gc");
  if (runtime === "deno") args.splice(1, 0, "--v8-flags=--expose-gc");
  const events: Line[] = [];
  let port = 0;
  const { child, exited } = startChild(
    command,
    args,
    {
      SOAK_BROADCAST: broadcast,
      ...(heartbeat
        ? { HEARTBEAT_INTERVAL: String(heartbeat.interval), HEARTBEAT_TIMEOUT: String(heartbeat.timeout) }
        : {}),
    },
    (line) => {
      if (line.ev === "listening") port = line.port as number;
      else if (line.ev === "error") say(`  server error: ${JSON.stringify(line)}`);
      events.push({ ...line, seenAt: Date.now() });
    },
  );
  const deadline = Date.now() + 30_000;
  while (!port) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${runtime} server did not start`);
    await sleep(50);
  }
  const control = new WebSocket(`ws://127.0.0.1:${port}/soak?role=control`);
  await new Promise((resolve, reject) => {
    control.once("open", resolve);
    control.once("error", reject);
  });
  const replies: Array<(line: Line) => void> = [];
  control.on("message", (data) => replies.shift()?.(JSON.parse(String(data)) as Line));
  const ask = (command: string) =>
    new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${command}`)), 30_000);
      replies.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      control.send(command);
    });
  const stop = async () => {
    control.close();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    port,
    events,
    stats: () => ask("/stats") as Promise<Line & Stats>,
    gcStats: () => ask("/gc") as Promise<Line & Stats>,
    closeAll: () => ask("/closeall"),
    stop,
  };
}
type SoakServer = Awaited<ReturnType<typeof startServer>>;

async function idlePhase(server: SoakServer) {
  const { count } = config.idle;
  say(`idle: ${count} connections, heartbeat ${JSON.stringify(config.heartbeat)}, held ${holdMs} ms`);
  const before = await server.gcStats();
  // The heartbeat's witness: a client that never reads, so never pongs, must be dropped (1006).
  const mute = await slowReader(server.port, "mute");
  const muteOpened = Date.now();
  let serverHeld = -1;
  let after: Stats | undefined;
  let held: Line | undefined;
  const result = await generator("idle", { port: server.port, count, hold: holdMs }, (line) => {
    if (line.ev === "held") {
      held = line;
      void (async () => {
        after = await server.gcStats();
        serverHeld = after.roles.idle ?? 0;
        await server.closeAll();
      })();
    }
  });
  const end = await server.gcStats();
  mute.destroy();
  if (!after || !held) throw new Error("idle phase ended without the held measurement");
  const muteGone = server.events.find((e) => e.ev === "watched-disconnect" && e.role === "mute");
  const clientHeld = held.open as number;
  const perConnection = (after.rss - before.rss) / count;
  const out = {
    connections: count,
    heldAtEnd: serverHeld,
    clientsOpenAtEnd: clientHeld,
    connectFailed: held.failed as number,
    dropped: count - Math.min(serverHeld, clientHeld),
    heartbeatDisconnects: after.disconnects["1006"] ?? 0,
    muteDroppedCode: (muteGone?.code as number | undefined) ?? null,
    muteDroppedAfterMs: muteGone ? (muteGone.seenAt as number) - muteOpened : null,
    holdMs,
    rssBeforeMiB: mib(before.rss),
    rssHeldMiB: mib(after.rss),
    rssAfterCloseMiB: mib(end.rss),
    rssPerConnectionKiB: Math.round((perConnection / 1024) * 10) / 10,
    connectMs: held.connectMs as number,
    closedByServer: result.allClosed as boolean,
  };
  say(`idle: ${JSON.stringify(out)}`);
  return out;
}

async function cyclesPhase(server: SoakServer) {
  const { warmup, count, concurrency } = config.cycles;
  say(`cycles: warm-up ${warmup}, then ${count} connect/disconnect cycles, ${concurrency} at a time`);
  const cold = await server.gcStats();
  await generator("cycles", { port: server.port, count: warmup, concurrency });
  const start = await server.gcStats();
  // RSS (without GC) every 2,000 cycles: a plateau or a trend.
  const trend: number[] = [];
  const result = await generator("cycles", { port: server.port, count, concurrency }, (line) => {
    if (line.ev === "progress") void server.stats().then((s) => trend.push(mib(s.rss)));
  });
  await sleep(500);
  const end = await server.gcStats();
  const ratio = end.rss / start.rss;
  const out = {
    cycles: result.cycles as number,
    failed: result.failed as number,
    perSecond: result.perSecond as number,
    ms: result.ms as number,
    warmup,
    rssColdMiB: mib(cold.rss),
    rssStartMiB: mib(start.rss),
    rssEndMiB: mib(end.rss),
    ratio: Math.round(ratio * 1000) / 1000,
    withinTenPercent: ratio <= 1.1,
    heapStartMiB: mib(start.heapUsed),
    heapEndMiB: mib(end.heapUsed),
    gc: end.gc,
    timeWait: timeWait(server.port),
    rssTrendMiB: trend,
    openAfter: end.connections,
  };
  say(`cycles: ${JSON.stringify(out)}`);
  return out;
}

/** TCP sockets in TIME_WAIT to or from `port` (Linux /proc/net/tcp, state 06), or -1 elsewhere. */
function timeWait(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  try {
    const rows = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1);
    return rows.filter((row) => {
      const [, local = "", remote = "", state] = row.trim().split(/\s+/);
      return state === "06" && (local.endsWith(hex) || remote.endsWith(hex));
    }).length;
  } catch {
    return -1;
  }
}

/** A raw TCP client: a real handshake, then it never reads again (so never answers a ping). */
function slowReader(port: number, role = "slow"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      const key = randomBytes(16).toString("base64");
      socket.write(
        `GET /soak?role=${role} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause(); // from here on, nothing is read: the kernel buffers fill, then the server's
      if (!head.startsWith("HTTP/1.1 101"))
        reject(new Error(`slow reader handshake: ${head.split("\r\n")[0]}`));
      else resolve(socket);
    };
    socket.on("data", onData);
  });
}

async function chatPhase(server: SoakServer) {
  const { clients, rate, seconds, size } = config.chat;
  say(`chat: 1 slow reader + ${clients} chatters x ${rate} msg/s x ${seconds} s, ${size}-byte padding`);
  const slow = await slowReader(server.port);
  const baseline = await server.gcStats();
  const samples: Array<{ t: number; rssMiB: number; slowBuffered?: number }> = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await server.stats();
      samples.push({ t: Date.now() - t0, rssMiB: mib(s.rss), slowBuffered: s.slowBuffered });
      await sleep(1000);
    }
  })();
  let sendStart = 0;
  const result = await generator("chat", { port: server.port, clients, rate, seconds, size }, (line) => {
    if (line.ev === "progress" && line.chatters !== undefined) sendStart = Date.now();
  });
  sampling = false;
  await sampler;
  slow.destroy();
  const closedEvent = server.events.find((e) => e.ev === "watched-disconnect" && e.role === "slow");
  // RSS plateau: the highest RSS of the last third of the samples is at most 10%
  // (plus 8 MiB, two backpressure limits' worth of transient buffers) above the
  // highest of the first two thirds. Unbounded buffering for the slow reader fails it.
  const cut = Math.floor((samples.length * 2) / 3);
  const early = Math.max(...samples.slice(0, cut).map((s) => s.rssMiB));
  const late = Math.max(...samples.slice(cut).map((s) => s.rssMiB));
  const out = {
    clients,
    rate,
    seconds,
    size,
    sent: result.sent as number,
    expectedPerClient: result.expectedPerClient as number,
    minReceived: result.minReceived as number,
    lost: result.lost as number,
    outOfOrder: result.outOfOrder as number,
    chattersDropped: result.chattersDropped as number,
    drainMs: result.drainMs as number,
    slowClosedCode: (closedEvent?.code as number | undefined) ?? null,
    slowClosedReason: (closedEvent?.reason as string | undefined) ?? null,
    slowMaxBufferedKiB: Math.round(Math.max(0, ...samples.map((s) => s.slowBuffered ?? 0)) / 1024),
    slowClosedAfterMs: closedEvent && sendStart ? (closedEvent.seenAt as number) - sendStart : null,
    rssBaselineMiB: mib(baseline.rss),
    rssPeakMiB: Math.max(...samples.map((s) => s.rssMiB)),
    rssFirstTwoThirdsMaxMiB: early,
    rssLastThirdMaxMiB: late,
    plateau: late <= early * 1.1 + 8,
    samples: samples.map((s) => s.rssMiB),
  };
  say(`chat: ${JSON.stringify({ ...out, samples: undefined })}`);
  return out;
}

/** Runs one phase against a fresh server, so no phase inherits another's heap. */
async function withServer<T>(
  runtime: Runtime,
  heartbeat: { interval: number; timeout: number } | undefined,
  phase: (server: SoakServer) => Promise<T>,
): Promise<T> {
  const server = await startServer(runtime, heartbeat);
  try {
    return await phase(server);
  } finally {
    await server.stop();
  }
}

/**
 * The close code a slow reader gets when its buffer overflows inside a broadcast: 1013, except on
 * Bun, whose native publish closes the socket itself and reports 1006 (docs/runtimes.md).
 */
const SLOW_READER_CLOSE: Record<Runtime, number> = { node: 1013, bun: 1006, deno: 1013 };

async function soak(runtime: Runtime) {
  say(`=== ${runtime} ===`);
  // Idle and cycles: heartbeat on with a short interval, so the hold spans several rounds.
  const idle = phases.has("idle") ? await withServer(runtime, config.heartbeat, idlePhase) : undefined;
  const cycles = phases.has("cycles") ? await withServer(runtime, config.heartbeat, cyclesPhase) : undefined;
  // Chat: polysocket's default heartbeat (30 s / 10 s). A client that never
  // reads never answers a ping either, so with a short interval the heartbeat
  // (1006) would race the backpressure limit (1013).
  const chat = phases.has("chat") ? await withServer(runtime, undefined, chatPhase) : undefined;
  const failed: string[] = [];
  const check = (holds: boolean, what: string) => holds || failed.push(what);
  if (idle) {
    check(idle.dropped === 0, `idle: ${idle.dropped} dropped`);
    check(
      idle.muteDroppedCode === 1006,
      `idle: heartbeat witness ended with ${idle.muteDroppedCode}, not 1006`,
    );
  }
  if (cycles) {
    check(cycles.failed === 0, `cycles: ${cycles.failed} failed`);
    check(cycles.withinTenPercent, `cycles: RSS ×${cycles.ratio}, over 1.1`);
  }
  if (chat) {
    check(
      chat.lost === 0 && chat.outOfOrder === 0,
      `chat: ${chat.lost} lost, ${chat.outOfOrder} out of order`,
    );
    const expected = SLOW_READER_CLOSE[runtime];
    check(
      chat.slowClosedCode === expected,
      `chat: slow reader closed with ${chat.slowClosedCode}, not ${expected}`,
    );
    check(chat.plateau, "chat: RSS did not plateau");
  }
  return { runtime, ok: failed.length === 0, failed, idle, cycles, chat };
}

const started = new Date();
const results: Array<Awaited<ReturnType<typeof soak>>> = [];
for (const runtime of runtimes) {
  try {
    results.push(await soak(runtime));
  } catch (error) {
    // One runtime failing (e.g. its server did not start) still lets the others run.
    say(`${runtime} failed: ${(error as Error).stack ?? error}`);
    results.push({
      runtime,
      ok: false,
      failed: [`error: ${error}`],
      idle: undefined,
      cycles: undefined,
      chat: undefined,
    });
  }
}
const summary = {
  date: started.toISOString(),
  quick,
  broadcast,
  heartbeat: config.heartbeat,
  machine: machine(),
  seconds: Math.round((Date.now() - started.getTime()) / 1000),
  results,
};

function machine() {
  const versions: Record<string, string> = { node: process.version };
  for (const name of ["bun", "deno"]) {
    try {
      versions[name] = execFileSync(binary(name), ["--version"], { encoding: "utf8" }).split("\n")[0]!.trim();
    } catch {
      versions[name] = "?";
    }
  }
  return versions;
}

if (jsonOut) {
  const path = resolvePath(ROOT, jsonOut);
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(path.replace(/(\.json)?$/, ".md"), markdown(summary));
  // In the repo's own style, so `npm run lint` stays green when the file is committed.
  try {
    execFileSync(`${ROOT}node_modules/.bin/biome`, ["format", "--write", path], { stdio: "ignore" });
  } catch {
    // outside the project's files (biome ignores them): left as written
  }
  say(`wrote ${jsonOut}`);
}

function markdown(s: typeof summary): string {
  const rows = s.results.map(({ runtime, ok, failed, idle, cycles, chat }) => {
    const cells = [
      idle
        ? `${idle.connections} held ${idle.holdMs} ms, ${idle.dropped} dropped; RSS ${idle.rssBeforeMiB} → ${idle.rssHeldMiB} MiB = ${idle.rssPerConnectionKiB} KiB/conn; connect ${idle.connectMs} ms`
        : "–",
      cycles
        ? `${cycles.cycles} cycles (${cycles.perSecond}/s, ${cycles.failed} failed) after ${cycles.warmup} warm-up: RSS ${cycles.rssStartMiB} → ${cycles.rssEndMiB} MiB = ×${cycles.ratio} (cold ${cycles.rssColdMiB})`
        : "–",
      chat
        ? `slow reader closed ${chat.slowClosedCode} after ${chat.slowClosedAfterMs} ms; RSS ${chat.rssBaselineMiB} → peak ${chat.rssPeakMiB} MiB, plateau ${chat.plateau}; lost ${chat.lost}, out of order ${chat.outOfOrder}`
        : "–",
    ];
    return `| ${runtime} | ${cells.join(" | ")} | ${ok ? "ok" : `FAIL: ${failed.join("; ")}`} |`;
  });
  return [
    `# Soak results (${s.date}${s.quick ? ", quick" : ""})`,
    "",
    `Heartbeat ${JSON.stringify(s.heartbeat)}; ${JSON.stringify(s.machine)}. RSS is the server's own \`process.memoryUsage().rss\`, after GC except the chat peak.`,
    "",
    "| runtime | idle connections | connect/disconnect cycles | slow reader + chat | checks |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

for (const r of results) say(`${r.runtime}: ${r.ok ? "all checks hold" : `FAILED: ${r.failed.join("; ")}`}`);
console.log(`SOAK_RESULT ${JSON.stringify(summary)}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
