/**
 * The load and soak script (bench/soak/run.ts) in its --quick form, per runtime.
 * It asserts that the run completes with numbers and that its correctness
 * checks hold; never a speed, and not the cycles' memory ratio (too few
 * cycles in --quick for a stable figure: the full run reports it).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ROOT, RUNTIMES } from "./harness/runtimes.ts";

const tsx = createRequire(import.meta.url).resolve("tsx");

function quickSoak(runtime: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", tsx, "bench/soak/run.ts", "--quick", "--runtimes", runtime],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.each(RUNTIMES)("[%s] soak --quick", (runtime) => {
  it("holds every idle connection, loses nothing for the chatters, closes the slow reader", async () => {
    const { output: full } = await quickSoak(runtime);
    const output = full.slice(-3000); // the tail, for failure messages
    const line = full.split("\n").find((l) => l.startsWith("SOAK_RESULT "));
    expect(line, output).toBeDefined();
    const [result] = JSON.parse(line!.slice("SOAK_RESULT ".length)).results;
    expect(result.runtime).toBe(runtime);

    const { idle, cycles, chat } = result;
    expect(idle.dropped, output).toBe(0);
    expect(idle.heldAtEnd).toBe(idle.connections);
    expect(idle.muteDroppedCode, "the heartbeat's witness (never pongs) is dropped").toBe(1006);
    expect(idle.rssHeldMiB).toBeGreaterThan(0);
    expect(Number.isFinite(idle.rssPerConnectionKiB)).toBe(true);

    expect(cycles.failed, output).toBe(0);
    expect(cycles.cycles).toBeGreaterThan(0);
    expect(cycles.rssStartMiB).toBeGreaterThan(0);
    expect(cycles.rssEndMiB).toBeGreaterThan(0);
    expect(cycles.openAfter).toBe(0);

    expect(chat.lost, output).toBe(0);
    expect(chat.outOfOrder).toBe(0);
    expect(chat.chattersDropped).toBe(0);
    expect(chat.minReceived).toBe(chat.expectedPerClient);
    // 1013 everywhere but Bun, whose native publish closes the slow socket itself with 1006.
    expect(chat.slowClosedCode, output).toBe(runtime === "bun" ? 1006 : 1013);
    expect(chat.plateau, output).toBe(true);
  }, 180_000);
});
