/**
 * Fails when the npm export map (package.json), the JSR export map (deno.json),
 * Deno's import map or the tsconfig paths drift from `scripts/entries.ts`, or
 * from each other. `--write` rewrites them from the entries instead.
 *
 * Run: `npm run check:exports` (in `npm test`), `npm run exports:write` after adding an entry.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { jsrName, npmName } from "./entries.ts";
import { jsrExports, npmExports, npmFields, selfImports } from "./export-maps.ts";

type Json = { [key: string]: unknown };

const read = (file: string): Json => JSON.parse(readFileSync(file, "utf8"));
const write = process.argv.includes("--write");
const problems: string[] = [];
const changed = new Set<string>();

/** Equal as JSON, key order included: the order of export conditions is their priority. */
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Compares (or, with --write, sets) `obj[key]` to `expected`. */
function expect(file: string, obj: Json, key: string, expected: unknown): void {
  if (same(obj[key], expected)) return;
  if (write) {
    obj[key] = expected;
    changed.add(file);
  } else
    problems.push(
      `${file}: "${key}" should be\n${JSON.stringify(expected, null, 2)}\ngot\n${JSON.stringify(obj[key], null, 2)}`,
    );
}

const pkg = read("package.json") as Json & { version: string; dependencies: { ws: string } };
const deno = read("deno.json") as Json & { imports?: Json; version?: string };
const tsconfig = read("tsconfig.json") as Json & { compilerOptions: Json };

expect("package.json", pkg, "name", npmName);
expect("package.json", pkg, "exports", npmExports());
for (const [key, value] of Object.entries(npmFields())) expect("package.json", pkg, key, value);
expect("deno.json", deno, "name", jsrName);
expect("deno.json", deno, "version", pkg.version);
expect("deno.json", deno, "license", pkg.license);
expect("deno.json", deno, "exports", jsrExports());
// The repository imports its own package by name; Deno and tsc must see the same sources.
const ws = `npm:ws@${pkg.dependencies.ws}`;
expect("deno.json", deno, "imports", { ...deno.imports, ...selfImports(npmName), ws });
const paths = Object.fromEntries(Object.entries(selfImports(npmName)).map(([k, v]) => [k, [v]]));
expect("tsconfig.json", tsconfig.compilerOptions, "paths", paths);

// The CLI prints its version without reading package.json at run time.
const cliVersion = /VERSION = "([^"]+)"/.exec(readFileSync("src/cli/version.ts", "utf8"))?.[1];
if (!write && cliVersion !== pkg.version) {
  problems.push(`src/cli/version.ts: VERSION is "${cliVersion}", package.json says "${pkg.version}"`);
}

// The two published maps must offer the same subpaths, whatever the entries say.
const npmKeys = Object.keys(pkg.exports as Json).sort();
const jsrKeys = Object.keys(deno.exports as Json).sort();
if (!write && !same(npmKeys, jsrKeys)) {
  problems.push(`npm exports ${npmKeys.join(", ")} differ from JSR exports ${jsrKeys.join(", ")}`);
}

if (write) {
  const files = { "package.json": pkg, "deno.json": deno, "tsconfig.json": tsconfig };
  for (const file of changed) {
    writeFileSync(file, `${JSON.stringify(files[file as keyof typeof files], null, 2)}\n`);
  }
  console.log(changed.size ? `rewrote ${[...changed].join(", ")}` : "export maps already agree");
} else if (problems.length > 0) {
  console.error(
    `Export maps drifted (fix by hand, or \`npm run exports:write\`):\n\n${problems.join("\n\n")}`,
  );
  process.exit(1);
} else {
  console.log(`export maps agree: ${npmKeys.join(", ")} (npm ${npmName}, JSR ${jsrName}@${deno.version})`);
}
