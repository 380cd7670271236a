/**
 * The processes of a benchmark: a server in one runtime (started fresh per
 * target, implementation and round), and the Bun load generator per measurement.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Runtime } from "./config.ts";
import type { Job, LoadResult } from "./job.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;
/** Linux reports process CPU times in clock ticks of 1/100 s. */
const CLOCK_TICKS = 100;

/** The command that runs `file` in `runtime`, with a way to force a full GC (for RSS readings). */
function commandFor(runtime: Runtime, file: string): [string, string[]] {
  switch (runtime) {
    case "node":
      return [
        process.execPath,
        ["--expose-gc", "--import", createRequire(import.meta.url).resolve("tsx"), file],
      ];
    case "bun":
      return [`${BIN}/bun`, [file]];
    case "deno":
      return [`${BIN}/deno`, ["run", "-A", "--v8-flags=--expose-gc", file]];
  }
}

/**
 * On a machine with two or more cores, the server runs on core 0 and the generator
 * on core 1 (`taskset`), so they never queue behind each other on one core.
 */
const PIN = availableParallelism() >= 2 && existsSync("/usr/bin/taskset");
const SERVER_CPU = 0;
const GENERATOR_CPU = 1;

function pinned(cpu: number | undefined, command: string, args: string[]): [string, string[]] {
  if (!PIN || cpu === undefined) return [command, args];
  return ["/usr/bin/taskset", ["-c", String(cpu), command, ...args]];
}

/** Whether server and generator get a core each (reported with the results). */
export const PINNED: boolean = PIN;

/** A child process whose stdout is read as lines of JSON. */
class JsonProcess {
  readonly child: ChildProcess;
  readonly #lines: Record<string, unknown>[] = [];
  #stderr = "";
  #wake: (() => void) | undefined;

  constructor(
    runtime: Runtime,
    file: string,
    args: string[] = [],
    env: Record<string, string> = {},
    cpu?: number,
  ) {
    const [program, base] = commandFor(runtime, file);
    const [command, commandArgs] = pinned(cpu, program, [...base, ...args]);
    this.child = spawn(command, commandArgs, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      if (line.startsWith("{")) this.#lines.push(JSON.parse(line));
      this.#wake?.();
    });
    this.child.stderr!.on("data", (chunk) => {
      this.#stderr += chunk;
    });
    this.child.once("exit", () => this.#wake?.());
  }

  /** The next JSON line that has `key`, consumed; rejects on exit or after `timeoutMs`. */
  next(key: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for "${key}"`)), timeoutMs);
      const done = (error?: Error, value?: Record<string, unknown>) => {
        clearTimeout(timer);
        this.#wake = undefined;
        if (error) reject(new Error(`${error.message}\nstderr:\n${this.#stderr.slice(-2000)}`));
        else resolve(value!);
      };
      const check = () => {
        const index = this.#lines.findIndex((line) => key in line);
        if (index >= 0) return done(undefined, this.#lines.splice(index, 1)[0]);
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(new Error(`exited (${this.child.exitCode ?? this.child.signalCode}) before "${key}"`));
        }
      };
      this.#wake = check;
      check();
    });
  }

  /** Ends the process and waits for it. */
  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGKILL");
    return exited;
  }
}

/** A benchmark server (bench/servers/*) running in one runtime. */
export class ServerProcess extends JsonProcess {
  port = 0;
  /** Whether it is the rooms server (bench/servers/rooms.ts), which also takes `join`. */
  rooms = false;

  /** Starts `file` (under bench/servers) and waits until it listens. */
  static async start(
    runtime: Runtime,
    file: string,
    env: Record<string, string> = {},
  ): Promise<ServerProcess> {
    const server = new ServerProcess(runtime, `bench/servers/${file}`, [], env, SERVER_CPU);
    server.rooms = file === "rooms.ts";
    server.port = (await server.next("ready", 30_000)).ready as number;
    return server;
  }

  /** The server's resident memory in bytes, read after a full GC. */
  async rss(): Promise<number> {
    this.child.stdin!.write("rss\n");
    return (await this.next("rss", 10_000)).rss as number;
  }

  /** The server's resident memory and JS heap in use, in bytes, read after a full GC. */
  async memory(): Promise<{ rss: number; heap: number }> {
    this.child.stdin!.write("rss\n");
    const { rss, heap } = await this.next("rss", 10_000);
    return { rss: rss as number, heap: heap as number };
  }

  /**
   * Has the server subscribe its `?subs` connections to 3 topics each (`distinct`:
   * to that many topics of their own; `join`: into that many rooms of their own);
   * resolves with the subscriptions (rooms) made.
   */
  async subscribeAll(command: "subscribe" | "join" = "subscribe", distinct?: number): Promise<number> {
    this.child.stdin!.write(distinct === undefined ? `${command}\n` : `${command} ${distinct}\n`);
    return (await this.next("subscribed", 60_000)).subscribed as number;
  }

  /** The server's process id (for CPU readings from /proc). */
  get pid(): number {
    return this.child.pid ?? 0;
  }
}

/** A generator measurement, with the server's CPU share over the same window. */
export interface Measurement extends LoadResult {
  /** Server CPU time over wall time in the measuring window: 1 means one core fully busy. */
  serverCpu: number;
  /** CPU used by everything else on the machine in the window (other users' work), in cores. */
  otherCpu: number;
}

/** Runs one generator job against `server` to its end and returns what it measured. */
export async function runLoad(job: Job, server: ServerProcess): Promise<Measurement> {
  const generator = new JsonProcess("bun", "bench/load.ts", [JSON.stringify(job)], {}, GENERATOR_CPU);
  try {
    await generator.next("window", job.warmupMs + 60_000);
    const [server0, machine0, t0] = [cpuSeconds(server.pid), machineCpuSeconds(), performance.now()];
    const result = (await generator.next("rate", job.measureMs + 30_000)) as unknown as LoadResult;
    const seconds = (performance.now() - t0) / 1000;
    const serverCpu = (cpuSeconds(server.pid) - server0) / seconds;
    const machineCpu = (machineCpuSeconds() - machine0) / seconds;
    return { ...result, serverCpu, otherCpu: Math.max(0, machineCpu - serverCpu - result.cpu) };
  } finally {
    await generator.kill();
  }
}

/** Busy CPU seconds of the whole machine (all but idle and iowait), from /proc/stat; 0 where unavailable. */
function machineCpuSeconds(): number {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = fields.reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
    return busy / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of a process, from /proc (Linux); 0 where unavailable. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Opens the job's idle connections, runs `whileOpen`, then lets the generator close them. */
export async function withIdleConnections<T>(job: Job, whileOpen: () => Promise<T>): Promise<T> {
  const generator = new JsonProcess("bun", "bench/load.ts", [JSON.stringify(job)], {}, GENERATOR_CPU);
  try {
    await generator.next("ready", 60_000);
    return await whileOpen();
  } finally {
    generator.child.stdin!.write("close\n");
    const exited = new Promise((resolve) => generator.child.once("exit", resolve));
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await generator.kill();
  }
}
