/**
 * examples/chat.ts as a process, the way people run it: `npm run chat` (`chat:bun`,
 * `chat:deno`) under a process manager or a terminal, and on a port that is taken.
 *
 * Whichever process of the job gets SIGTERM or SIGINT — npm alone (what systemd,
 * Docker and pm2 signal), the server itself, or the whole process group (Ctrl-C in
 * a terminal) — clients get 1001, npm exits 0 and nothing is left on the port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server as NetServer } from "node:net";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { ROOT, RUNTIMES, type Runtime } from "./harness/runtimes.ts";

const STARTED = /^WebSocket Chat Server started on ws:\/\/localhost:(\d+)\/chat$/;
/** Starting bundles the chat page with esbuild: seconds on a loaded machine. */
const START_MS = 30_000;
const STOP_MS = 10_000;
const SCRIPTS: Record<Runtime, string> = { node: "chat", bun: "chat:bun", deno: "chat:deno" };

/** One `npm run <script>` in its own process group, as a terminal or a service manager starts it. */
class NpmJob {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly lines: string[] = [];
  stderr = "";

  constructor(script: string) {
    this.child = spawn("npm", ["run", script], {
      cwd: ROOT,
      env: { ...process.env, PORT: "0", NO_COLOR: "1" },
      detached: true, // its own process group, like a service or a terminal's foreground job
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.lines.push(line));
    this.child.stderr!.on("data", (chunk) => {
      this.stderr += chunk;
    });
    this.exit = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The port from the start banner. */
  async port(): Promise<number> {
    const banner = await this.#poll(
      () => this.lines.find((l) => STARTED.test(l)),
      START_MS,
      "the start banner",
    );
    return Number(STARTED.exec(banner)![1]);
  }

  /** npm's only child: the server, once `sh -c` has exec'd it. */
  server(): { pid: number; command: string } {
    const children = readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, "utf8").trim().split(" ");
    expect(children, `npm should have one child process, the server; it has ${children}`).toHaveLength(1);
    const pid = Number(children[0]);
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]!;
    return { pid, command: basename(argv0) };
  }

  /** Resolves with npm's exit, or fails after `ms`. */
  async exited(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`npm still running ${ms} ms after the signal${this.#output()}`)),
        ms,
      );
    });
    try {
      return await Promise.race([this.exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #poll<T>(probe: () => T | undefined, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value !== undefined) return resolve(value);
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          return reject(new Error(`npm exited before ${what}${this.#output()}`));
        }
        if (Date.now() > deadline) return reject(new Error(`no ${what} within ${ms} ms${this.#output()}`));
        setTimeout(check, 20);
      };
      check();
    });
  }

  #output(): string {
    return `\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once something can listen on `port` again (then lets it go); false if it stays taken. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/** Who gets the signal: npm alone, the server alone, or the whole job (Ctrl-C). */
type Target = "npm" | "server" | "group";
const CASES: [Target, NodeJS.Signals][] = [
  ["npm", "SIGTERM"],
  ["npm", "SIGINT"],
  ["server", "SIGTERM"],
  ["server", "SIGINT"],
  ["group", "SIGINT"],
];
const TARGETS: Record<Target, string> = {
  npm: "npm alone",
  server: "the server alone",
  group: "the whole process group (Ctrl-C)",
};

let leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, "SIGKILL");
  leftovers = [];
});

describe.each(RUNTIMES)("the chat example under npm, on %s", (runtime) => {
  const script = SCRIPTS[runtime];
  test.each(CASES)(
    `npm run ${script}: %s gets %s → clients get 1001, npm exits 0, the port is free`,
    async (target, signal) => {
      const job = new NpmJob(script);
      leftovers.push(job.pid);
      const port = await job.port();
      const server = job.server();
      leftovers.push(server.pid);
      expect(server.command, "no shell or launcher between npm and the server").toBe(runtime);
      const client = await TestClient.open(`ws://127.0.0.1:${port}/chat`);
      expect(await client.nextText()).toMatch(/^User \S+ joined the chat$/);

      const pid = { npm: job.pid, server: server.pid, group: -job.pid }[target];
      process.kill(pid, signal);
      expect(
        (await client.closedWithin(STOP_MS)).code,
        `close code after ${signal} to ${TARGETS[target]}`,
      ).toBe(1001);
      expect(await job.exited(STOP_MS)).toEqual({ code: 0, signal: null });
      expect(alive(server.pid), `the server process (${server.pid}) should be gone`).toBe(false);
      expect(await portFree(port), `port ${port} should be free`).toBe(true);
    },
  );
});

describe.each(RUNTIMES)("examples/chat.ts on %s, port taken", (runtime) => {
  let blocker: NetServer | undefined;
  afterEach(() => {
    blocker?.close();
  });

  test("one line on stderr, exit code 1", async () => {
    blocker = createServer().listen(0);
    await new Promise((resolve) => blocker!.once("listening", resolve));
    const { port } = blocker.address() as { port: number };
    const chat = new RuntimeProcess(runtime, "examples/chat.ts", { PORT: String(port) });
    try {
      await chat.waitUntil(() => (chat.exited ? true : undefined), "the example to exit");
      expect(await chat.finished()).toBe(1);
      expect(chat.stderr).toBe(`Chat server not started: address already in use: 0.0.0.0:${port}\n`);
      expect(chat.lines).toEqual([]);
    } finally {
      await chat.stop("SIGKILL");
    }
  });
});
