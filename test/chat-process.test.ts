/**
 * examples/chat.ts as a process, the way people run it: `npm run chat` (`chat:bun`,
 * `chat:deno`) under a process manager or a terminal, and on a port that is taken.
 *
 * Whichever process of the job gets SIGTERM or SIGINT — npm alone (what systemd,
 * Docker and pm2 signal), the server itself, or the whole process group (Ctrl-C in
 * a terminal) — clients get 1001, npm exits 0 and nothing is left on the port.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server as NetServer } from "node:net";
import { basename } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Job } from "./harness/job.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { ROOT, RUNTIMES, type Runtime } from "./harness/runtimes.ts";

const STARTED = /^WebSocket Chat Server started on ws:\/\/localhost:(\d+)\/chat$/;
/** Starting bundles the chat page with esbuild: seconds on a loaded machine. */
const START_MS = 30_000;
const STOP_MS = 10_000;
const SCRIPTS: Record<Runtime, string> = { node: "chat", bun: "chat:bun", deno: "chat:deno" };

/** npm's only child: the server, once `sh -c` has exec'd it. */
function serverOf(npm: Job): { pid: number; command: string } {
  const children = readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8").trim().split(" ");
  expect(children, `npm should have one child process, the server; it has ${children}`).toHaveLength(1);
  const pid = Number(children[0]);
  const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]!;
  return { pid, command: basename(argv0) };
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

describe.each(RUNTIMES)("the chat example under npm, on %s", (runtime) => {
  const script = SCRIPTS[runtime];
  test.each(CASES)(
    `npm run ${script}: %s gets %s → clients get 1001, npm exits 0, the port is free`,
    async (target, signal) => {
      const npm = new Job("npm", ["run", script], ROOT, { PORT: "0" });
      try {
        const port = Number((await npm.waitForLine(STARTED, "the start banner", START_MS))[1]);
        const server = serverOf(npm);
        expect(server.command, "no shell or launcher between npm and the server").toBe(runtime);
        const client = await TestClient.open(`ws://127.0.0.1:${port}/chat`);
        expect(await client.nextText()).toMatch(/^User \S+ joined the chat$/);

        const pid = { npm: npm.pid, server: server.pid, group: -npm.pid }[target];
        process.kill(pid, signal);
        const closed = await client.closedWithin(STOP_MS);
        expect(closed.code, `close code after ${signal} to ${TARGETS[target]}`).toBe(1001);
        expect(await npm.exited(STOP_MS)).toEqual({ code: 0, signal: null });
        expect(alive(server.pid), `the server process (${server.pid}) should be gone`).toBe(false);
        expect(await portFree(port), `port ${port} should be free`).toBe(true);
      } finally {
        npm.killGroup();
      }
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
