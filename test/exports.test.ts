/**
 * The drift check (scripts/check-exports.ts) passes on the repository and fails
 * when one export map is edited by hand, naming the file.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT } from "./harness/runtimes.ts";

const CONFIGS = ["package.json", "deno.json", "tsconfig.json", "src/cli/version.ts"];
const TSX = createRequire(import.meta.url).resolve("tsx");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the check in a copy of the config files, after `edit` changed them. */
function checkWith(edit: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "polysocket-exports-"));
  dirs.push(dir);
  for (const file of CONFIGS) cpSync(join(ROOT, file), join(dir, file));
  edit(dir);
  const script = join(ROOT, "scripts/check-exports.ts");
  return spawnSync(process.execPath, ["--import", TSX, script], { cwd: dir, encoding: "utf8" });
}

/** The parts of package.json and deno.json the cases edit. */
interface Config {
  version?: string;
  exports: Record<string, unknown>;
}

function editJson(dir: string, file: string, change: (json: Config) => void): void {
  const json = JSON.parse(readFileSync(join(dir, file), "utf8"));
  change(json);
  writeFileSync(join(dir, file), JSON.stringify(json));
}

describe("export map drift check", () => {
  test("the repository's maps agree", () => {
    const result = checkWith(() => {});
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test.each([
    ["a JSR-only subpath", "deno.json", (j: Config) => (j.exports["./extra"] = "./src/extra.ts")],
    ["an npm subpath removed", "package.json", (j: Config) => delete j.exports["./bun"]],
    [
      "conditions reordered",
      "package.json",
      (j: Config) => {
        const dot = j.exports["."] as { import: Record<string, string> };
        const { node, ...rest } = dot.import;
        dot.import = { node: node!, ...rest };
      },
    ],
    ["a version bump on one side", "deno.json", (j: Config) => (j.version = "9.9.9")],
  ])("fails on %s", (_what, file, change) => {
    const result = checkWith((dir) => editJson(dir, file, change));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}:`);
  });
});

describe("public surface (the JSR sources)", () => {
  const INTERNALS = ["wantsWebSocket", "headerRecord", "LazyUpgradeRequest", "DEFAULTS", "control", "Groups"];
  const ENGINE_ONLY = ["closeFor", "recordClose", "drop", "markEnded", "transport", "closeSent"];

  test.each([
    "../src/index.ts",
    "../src/adapters/node/index.ts",
    "../src/client/index.ts",
    "../src/redis/index.ts",
    "../src/metrics/index.ts",
    "../src/page/index.ts",
  ])("%s exports no internals, and Connection has no engine-only members", async (entry) => {
    const module: Record<string, unknown> = await import(entry);
    expect(Object.keys(module).filter((name) => INTERNALS.includes(name))).toEqual([]);
    const connection = module.Connection as { prototype: object } | undefined;
    if (connection) {
      const members = Object.getOwnPropertyNames(connection.prototype);
      expect(members.filter((name) => ENGINE_ONLY.includes(name))).toEqual([]);
    }
  });
});
