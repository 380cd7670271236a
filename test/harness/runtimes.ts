/**
 * How to start a TypeScript file in each runtime, from the project's own
 * node_modules: no global install is used, and a missing runtime fails loudly.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export type Runtime = "node" | "bun" | "deno";
export const RUNTIMES: readonly Runtime[] = ["node", "bun", "deno"];

/** A way to run a suite on a runtime: its name in test titles and the fixture's environment. */
export interface Variant {
  name: string;
  env: Record<string, string>;
}

/** The runtime with its own (default) adapter. */
export const nativeVariant = (runtime: Runtime): Variant => ({ name: runtime, env: {} });

/** Deno running polysocket's Node adapter (`ws` over Deno's Node layer). */
export const DENO_NODE_ADAPTER: Variant = { name: "deno+node-adapter", env: { POLYSOCKET_ADAPTER: "node" } };

export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;

/** The command line that runs `file` (relative to the project root) in `runtime`. */
export function commandFor(runtime: Runtime, file: string): [string, string[]] {
  switch (runtime) {
    case "node":
      return [process.execPath, ["--import", createRequire(import.meta.url).resolve("tsx"), file]];
    case "bun":
      return [binary("bun"), [file]];
    case "deno":
      return [binary("deno"), ["run", "-A", file]];
  }
}

/** The path of `bun` or `deno` in node_modules/.bin; throws if it is missing. */
export function binary(name: string): string {
  const path = `${BIN}/${name}`;
  if (!existsSync(path)) {
    throw new Error(`${name} is missing at ${path}: run \`npm install\` (it is a devDependency)`);
  }
  return path;
}
