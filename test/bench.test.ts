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
    expect(results.rows).toHaveLength(4 * 5); // node, bun, deno, deno-node × five scenarios
    for (const row of results.rows) {
      for (const value of [row.polysocket, row.raw]) {
        expect(Number.isFinite(value), `${row.target} ${row.scenario}`).toBe(true);
      }
      // JSON has no Infinity: a raw server measured at 0 (memory, in a tiny run) gives a null ratio.
      expect(row.ratio === null || Number.isFinite(row.ratio), `${row.target} ${row.scenario} ratio`).toBe(
        true,
      );
    }
    expect(readFileSync(join(out, "results.md"), "utf8")).toContain("| chat fan-out");
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

test("--paired refuses the scenarios it cannot pair", async () => {
  await expect(bench(["--paired", "--scenarios", "memory"])).rejects.toMatchObject({
    stderr: expect.stringContaining("--paired measures connrate, echo, large, fanout only, not memory"),
  });
});
