/**
 * CI smoke test of `npm run bench -- --quick`: it runs every scenario on every
 * runtime and produces numbers. It never asserts a speed: benchmarks are not tests.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { ROOT } from "./harness/runtimes.ts";

const run = promisify(execFile);

/** Runs `bench/run.ts` with `args` as `npm run bench -- args` would. */
function bench(args: string[]) {
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return run(process.execPath, ["--import", tsx, "bench/run.ts", ...args], { cwd: ROOT });
}

test("npm run bench -- --quick measures every scenario on every runtime", { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), "polysocket-bench-"));
  try {
    const { stdout } = await bench(["--quick", "--out", out]);
    expect(stdout).toContain("skipping the redis scenario"); // said, not silent (--scenarios redis runs it)
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    // node, bun, deno, deno-node × memory, connrate, echo, large, fanout, topic, topics (not topicmem)
    expect(results.rows).toHaveLength(4 * 7);
    for (const row of results.rows) {
      for (const value of [row.polysocket, row.raw]) {
        expect(Number.isFinite(value), `${row.target} ${row.scenario}`).toBe(true);
      }
      // JSON has no Infinity: a raw server measured at 0 (memory, in a tiny run) gives a null ratio.
      expect(row.ratio === null || Number.isFinite(row.ratio), `${row.target} ${row.scenario} ratio`).toBe(
        true,
      );
    }
    const table = readFileSync(join(out, "results.md"), "utf8");
    expect(table).toContain("| chat fan-out");
    expect(table).toContain("| many topics fan-out (deliveries/s) |");
    expect(table).toContain("many topics / one topic, deliveries/s: polysocket on Node");
    expect(readFileSync(join(out, "chart.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("npm run bench -- --quick --paired measures both servers side by side on every runtime", {
  timeout: 120_000,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), "polysocket-bench-"));
  try {
    await bench(["--quick", "--paired", "--scenarios", "connrate,echo,fanout", "--out", out]);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.config.paired).toBe(true);
    expect(results.rows).toHaveLength(4 * 3); // node, bun, deno, deno-node × connrate, echo, fanout
    for (const row of results.rows) {
      for (const value of [row.polysocket, row.raw, row.ratio]) {
        expect(Number.isFinite(value) && value > 0, `${row.target} ${row.scenario}`).toBe(true);
      }
    }
    expect(readFileSync(join(out, "results.md"), "utf8")).toContain(
      "paired: polysocket and the raw server ran at the same time",
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("npm run bench -- --quick --scenarios topicmem reads memory per subscription on every runtime", {
  timeout: 120_000,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), "polysocket-bench-"));
  try {
    await bench(["--quick", "--scenarios", "topicmem", "--subscribed", "300", "--out", out]);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.rows).toHaveLength(4);
    for (const row of results.rows) {
      // RSS after a GC moves by pages: a tiny run may read 0 or less, but always a number.
      for (const value of [row.polysocket, row.raw, row.heap.polysocket, row.heap.raw]) {
        expect(Number.isFinite(value), `${row.target} topicmem`).toBe(true);
      }
    }
    expect(readFileSync(join(out, "results.md"), "utf8")).toContain("Memory per subscription, JS heap only");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("npm run bench -- --quick --scenarios room,roommem measures a room and idle rooms on Node, Bun and Deno", {
  timeout: 120_000,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), "polysocket-bench-"));
  try {
    const args = ["--quick", "--scenarios", "room,roommem", "--runtimes", "node,bun,deno"];
    await bench([...args, "--room-connections", "50", "--rooms-per-connection", "2", "--out", out]);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.rows).toHaveLength(3 * 2); // node, bun, deno × room, roommem
    for (const row of results.rows) {
      for (const value of [row.polysocket, row.raw]) {
        expect(Number.isFinite(value), `${row.target} ${row.scenario}`).toBe(true);
      }
      // Every member got its joined frame and the marker before the measurement.
      if (row.scenario === "room")
        expect(row.polysocket, `${row.target} room deliveries/s`).toBeGreaterThan(0);
      if (row.scenario === "roommem") expect(Number.isFinite(row.heap.polysocket), row.target).toBe(true);
    }
    expect(readFileSync(join(out, "results.md"), "utf8")).toContain("| one room fan-out (deliveries/s) |");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("--paired refuses the scenarios it cannot pair", async () => {
  await expect(bench(["--paired", "--scenarios", "memory"])).rejects.toMatchObject({
    stderr: expect.stringContaining(
      "--paired measures connrate, echo, large, fanout, topic, topics only, not memory",
    ),
  });
});
