/**
 * How to start a TypeScript file in each runtime, from the project's own
 * node_modules: no global install is used, and a missing runtime fails loudly.
 * `POLYSOCKET_NODE`, `POLYSOCKET_BUN` and `POLYSOCKET_DENO` name another binary
 * (what `npm run test:matrix` sets to run the suites on other versions).
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
  /** Mounted into a host server: it owns no port (`server.port` stays the option). */
  mounted?: boolean;
}

/** The runtime with its own (default) adapter. */
export const nativeVariant = (runtime: Runtime): Variant => ({ name: runtime, env: {} });

/** The runtime's polysocket server mounted into a host server of that runtime (`attach`, `upgrade`, `handler`). */
export const mountedVariant = (runtime: Runtime): Variant => ({
  name: `${runtime}-mounted`,
  env: { POLYSOCKET_MOUNT: "1" },
  mounted: true,
});

/** Deno running polysocket's Node adapter (`ws` over Deno's Node layer). */
export const DENO_NODE_ADAPTER: Variant = { name: "deno+node-adapter", env: { POLYSOCKET_ADAPTER: "node" } };

export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;

/** The command line that runs `file` (relative to the project root) in `runtime`. */
export function commandFor(runtime: Runtime, file: string): [string, string[]] {
  switch (runtime) {
    case "node":
      return [nodeBinary(), ["--import", createRequire(import.meta.url).resolve("tsx"), file]];
    case "bun":
      return [binary("bun"), [file]];
    case "deno":
      return [binary("deno"), ["run", "-A", file]];
  }
}

/** The variable that overrides a runtime's binary, e.g. `POLYSOCKET_BUN`. */
const overrideVariable = (name: string): string => `POLYSOCKET_${name.toUpperCase()}`;

/** The Node that runs fixtures: `POLYSOCKET_NODE` if set, else the one running the tests. */
export function nodeBinary(): string {
  return override("node") ?? process.execPath;
}

/** The path of `bun` or `deno`: `POLYSOCKET_BUN`/`POLYSOCKET_DENO` if set, else node_modules/.bin; throws if it is missing. */
export function binary(name: string): string {
  const path = override(name) ?? `${BIN}/${name}`;
  if (!existsSync(path)) {
    throw new Error(`${name} is missing at ${path}: run \`npm install\` (it is a devDependency)`);
  }
  return path;
}

/** The binary named by the runtime's override variable; throws if the variable names nothing. */
function override(name: string): string | undefined {
  const variable = overrideVariable(name);
  const path = process.env[variable];
  if (!path) return undefined;
  if (!existsSync(path)) throw new Error(`${variable}=${path}: no such file`);
  return path;
}
