/**
 * JSR side of the package, with the project's own Deno (node_modules/.bin):
 *   check  `deno publish --dry-run` (type check, no slow types, file list),
 *          `deno doc --lint` (JSDoc on every export) over deno.json's exports, and
 *          `deno check --doc-only src` (every `@example` type-checks);
 *   docs   API docs as HTML in docs/api (not committed; JSR renders the same docs).
 * Both run offline: `ws` resolves from node_modules (deno.json `nodeModulesDir: "manual"`).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";

const deno = "node_modules/.bin/deno";
const config = JSON.parse(readFileSync("deno.json", "utf8")) as { exports: Record<string, string> };
const sources = Object.values(config.exports);

/** `deno doc` warns about every `/// <reference path>` of @types/node (a deno doc quirk): noise, dropped. */
const NOISE = /^Warning Failed resolving types\..*\n\s+at file:.*@types\/node\/.*\n/gm;

function run(args: string[]): void {
  console.log(`$ deno ${args.join(" ")}`);
  const env = { ...process.env, NO_COLOR: "1" };
  const { status, error, stdout, stderr } = spawnSync(deno, args, { encoding: "utf8", env });
  if (error) throw error;
  process.stdout.write(stdout);
  process.stderr.write(stderr.replace(NOISE, ""));
  if (status !== 0) process.exit(status ?? 1);
}

switch (process.argv[2]) {
  case "check":
    run(["publish", "--dry-run", "--allow-dirty"]);
    run(["doc", "--lint", ...sources]);
    run(["check", "--doc-only", "src"]);
    break;
  case "docs":
    mkdirSync("docs/api", { recursive: true }); // deno doc creates only the last level
    run(["doc", "--html", "--name=polysocket", "--output=docs/api", ...sources]);
    console.log("API docs in docs/api/index.html");
    break;
  default:
    console.error("usage: tsx scripts/jsr.ts check|docs");
    process.exit(2);
}
