/**
 * A Redis for the tests: the one at `REDIS_URL`, or else a throwaway
 * `redis-server` (Debian's, from PATH) on a free port, without persistence,
 * that the tests may stop and start again on the same port. Without either,
 * the Redis tests skip with one line, unless `POLYSOCKET_REQUIRE_REDIS=1`
 * (set by .ci/run), which makes them fail instead.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";

/** The redis-server on PATH, if any. */
export function redisServerBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, "redis-server");
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/** Why the Redis tests cannot run here (`undefined`: they can). Throws when CI requires Redis. */
export function redisUnavailable(): string | undefined {
  if (process.env.REDIS_URL || redisServerBinary()) return undefined;
  const why = "no REDIS_URL and no redis-server on PATH (apt-get install redis-server)";
  if (process.env.POLYSOCKET_REQUIRE_REDIS === "1") {
    throw new Error(`POLYSOCKET_REQUIRE_REDIS=1 but ${why}`);
  }
  return why;
}

/**
 * Why the Redis Cluster tests cannot run here (`undefined`: they can): they
 * create their own cluster, so they need redis-server and redis-cli on PATH
 * whatever REDIS_URL says. Throws when CI requires Redis.
 */
export function clusterUnavailable(): string | undefined {
  const cli = (process.env.PATH ?? "")
    .split(delimiter)
    .some((dir) => dir && existsSync(join(dir, "redis-cli")));
  if (redisServerBinary() && cli) return undefined;
  const why = "no redis-server and redis-cli on PATH to create a cluster with (apt-get install redis-server)";
  if (process.env.POLYSOCKET_REQUIRE_REDIS === "1") {
    throw new Error(`POLYSOCKET_REQUIRE_REDIS=1 but ${why}`);
  }
  return why;
}

export class TestRedis {
  readonly url: string;
  readonly #port: number | undefined;
  /** Where a server stopped with `save` leaves its data for the next start. */
  readonly #dir = mkdtempSync(join(tmpdir(), "polysocket-redis-"));
  #child: ChildProcess | undefined;
  #inspector: Redis | undefined;

  private constructor(url: string, port?: number) {
    this.url = url;
    this.#port = port;
  }

  /** `REDIS_URL`, or a throwaway server started here. */
  static async start(): Promise<TestRedis> {
    if (process.env.REDIS_URL) return new TestRedis(process.env.REDIS_URL);
    const port = await freePort();
    const redis = new TestRedis(`redis://127.0.0.1:${port}`, port);
    await redis.restart();
    return redis;
  }

  /** Whether this is a throwaway server the tests may stop and restart. */
  get owned(): boolean {
    return this.#port !== undefined;
  }

  /**
   * Starts the throwaway server on its port, empty (or, with `keep`, with what
   * the last `stop({ save: true })` saved); resolves once it accepts connections.
   */
  async restart({ keep = false }: { keep?: boolean } = {}): Promise<void> {
    if (this.#port === undefined) throw new Error("cannot restart the Redis at REDIS_URL");
    await this.stop();
    if (!keep) rmSync(join(this.#dir, "dump.rdb"), { force: true });
    const args = ["--port", String(this.#port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    args.push("--dir", this.#dir);
    const child = spawn(redisServerBinary()!, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    await readyToAccept(child);
    child.stdout!.resume();
  }

  /** Stops the throwaway server: killed, its data gone; or, with `save`, shut down after saving it. */
  async stop({ save = false }: { save?: boolean } = {}): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (save) spawnSync("redis-cli", ["-p", String(this.#port), "shutdown", "save"], { stdio: "ignore" });
    else child.kill("SIGKILL");
    await exited;
  }

  /** Stops the server and removes its data directory (and closes {@link inspect}'s connection). */
  async dispose(): Promise<void> {
    this.#inspector?.disconnect();
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** A connection of the test's own, to look at what the processes stored (opened once). */
  inspect(): Redis {
    this.#inspector ??= new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    return this.#inspector;
  }

  /** Redis's clock, in ms: the one the room's heartbeats use. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.inspect().time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}

/**
 * A throwaway Redis Cluster of three masters (no replicas), each a
 * `redis-server --cluster-enabled yes` on a free loopback port with its config
 * and data in a temporary directory, joined by `redis-cli --cluster create`.
 */
export class TestRedisCluster {
  readonly ports: readonly number[];
  readonly #dir = mkdtempSync(join(tmpdir(), "polysocket-cluster-"));
  readonly #children: ChildProcess[] = [];
  readonly #inspectors = new Map<number, Redis>();

  private constructor(ports: number[]) {
    this.ports = ports;
  }

  /** Starts three masters and creates the cluster; resolves once every node reports `cluster_state:ok`. */
  static async start(): Promise<TestRedisCluster> {
    const ports = [await freePort(), await freePort(), await freePort()];
    const cluster = new TestRedisCluster(ports);
    try {
      await Promise.all(ports.map((port) => cluster.#startNode(port)));
      const create = spawnSync(
        "redis-cli",
        ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-yes"],
        { encoding: "utf8", timeout: 20_000 },
      );
      if (create.status !== 0)
        throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
      const deadline = Date.now() + 20_000;
      for (const port of ports) {
        for (;;) {
          const info = String(await cluster.node(port).cluster("INFO"));
          if (info.includes("cluster_state:ok")) break;
          if (Date.now() > deadline)
            throw new Error(`node ${port} never reported cluster_state:ok:\n${info}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      return cluster;
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
  }

  /** The startup nodes for an ioredis `Cluster`. */
  get nodes(): { host: string; port: number }[] {
    return this.ports.map((port) => ({ host: "127.0.0.1", port }));
  }

  /** A plain connection of the test's own to one node (opened once). */
  node(port: number): Redis {
    let inspector = this.#inspectors.get(port);
    if (!inspector) {
      inspector = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
      this.#inspectors.set(port, inspector);
    }
    return inspector;
  }

  /** The port of the master that serves `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    const first = this.node(this.ports[0]!);
    const slot = Number(await first.cluster("KEYSLOT", key));
    const ranges = (await first.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return range[2][1];
  }

  /** Stops every node and removes their files. */
  async dispose(): Promise<void> {
    for (const inspector of this.#inspectors.values()) inspector.disconnect();
    await Promise.all(
      this.#children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        return exited;
      }),
    );
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #startNode(port: number): Promise<void> {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    args.push("--cluster-enabled", "yes", "--cluster-config-file", join(this.#dir, `nodes-${port}.conf`));
    // The bus port defaults to port + 10000, which may be taken (or past 65535): ask for a free one.
    args.push("--cluster-port", String(await freePort()));
    args.push("--dir", this.#dir, "--dbfilename", `dump-${port}.rdb`);
    const child = spawn(redisServerBinary()!, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#children.push(child);
    await readyToAccept(child);
  }
}

/** Resolves once `child` (a redis-server) logs that it accepts connections. */
function readyToAccept(child: ChildProcess): Promise<void> {
  let output = "";
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}
