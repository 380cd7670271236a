/**
 * The workflow linter (`npm run lint:workflows`, scripts/lint-workflows.ts) passes
 * on the repository's .github/workflows and fails on a broken copy of ci.yml,
 * naming the file, the line and actionlint's rule.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT } from "./harness/runtimes.ts";

const TSX = createRequire(import.meta.url).resolve("tsx");
const SCRIPT = join(ROOT, "scripts/lint-workflows.ts");
const CI = readFileSync(join(ROOT, ".github/workflows/ci.yml"), "utf8");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function lint(dir?: string) {
  const args = ["--import", TSX, SCRIPT, ...(dir ? [dir] : [])];
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
}

/** Lints a copy of ci.yml with `from` replaced by `to` (which must be in the file, so the edit is real). */
function lintEdited(from: string, to: string) {
  expect(CI, `ci.yml no longer contains ${JSON.stringify(from)}: update this case`).toContain(from);
  const dir = mkdtempSync(join(tmpdir(), "polysocket-workflows-"));
  dirs.push(dir);
  writeFileSync(join(dir, "ci.yml"), CI.replace(from, to));
  return lint(dir);
}

describe("workflow lint", () => {
  test("the repository's workflows pass", () => {
    const result = lint();
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("pass actionlint");
    expect(result.status).toBe(0);
  });

  test.each([
    [
      "a job without runs-on",
      "    runs-on: ubuntu-latest\n    timeout-minutes: 15\n",
      "    timeout-minutes: 15\n",
      "syntax-check",
    ],
    ["a needs on a job that does not exist", "  suites:\n", "  suites:\n    needs: [lints]\n", "job-needs"],
    ["a matrix key misspelt in an expression", "{ matrix.target }", "{ matrix.tagret }", "expression"],
    ["broken YAML", "jobs:\n", "jobs:\n  - [\n", "syntax-check"],
  ])("fails on %s, naming the file, line and rule", (_what, from, to, rule) => {
    const result = lintEdited(from, to);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`ci\\.yml:\\d+:\\d+: .+ \\[${rule}\\]`));
  });

  test("fails when there is no workflow to check", () => {
    const dir = mkdtempSync(join(tmpdir(), "polysocket-workflows-"));
    dirs.push(dir);
    mkdirSync(join(dir, "empty"));
    const result = lint(join(dir, "empty"));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no workflow");
  });
});
