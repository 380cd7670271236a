/**
 * The export maps every config file must carry, derived from `entries.ts`.
 * Pure functions: `check-exports.ts` compares them with the files on disk.
 */
import { distName, entries, npmName, runtimeSubpaths } from "./entries.ts";

type Conditions = Record<string, string>;
/** One npm export: ESM and CJS, each with its declarations first. */
export type NpmExport = { import: Conditions; require: Conditions };

const subpaths = Object.keys(entries);

function files(subpath: string, ext: "js" | "cjs"): { code: string; types: string } {
  const base = `./dist/${distName(subpath)}`;
  return { code: `${base}.${ext}`, types: `${base}.d.${ext === "js" ? "ts" : "cts"}` };
}

/**
 * `"."` resolves to the running runtime's own build (`bun`, `deno`, `node`
 * conditions) and falls back to the auto-detecting build elsewhere; its
 * declarations are the auto-detecting entry's, which every runtime entry extends.
 */
function format(subpath: string, ext: "js" | "cjs"): Conditions {
  const { code, types } = files(subpath, ext);
  const conditions: Conditions = { types };
  if (subpath === ".") {
    for (const runtime of runtimeSubpaths) conditions[runtime.slice(2)] = files(runtime, ext).code;
  }
  conditions.default = code;
  return conditions;
}

/** package.json `exports`. */
export function npmExports(): Record<string, NpmExport> {
  return Object.fromEntries(subpaths.map((s) => [s, { import: format(s, "js"), require: format(s, "cjs") }]));
}

/** package.json fields for tools that predate `exports`, and the `polysocket` command. */
export function npmFields(): Record<"main" | "module" | "types" | "bin", unknown> {
  return {
    main: files(".", "cjs").code,
    module: files(".", "js").code,
    types: files(".", "cjs").types,
    bin: { [npmName]: "./dist/cli.js" },
  };
}

/** deno.json `exports` (what JSR publishes): the TypeScript sources themselves. */
export function jsrExports(): Record<string, string> {
  return Object.fromEntries(subpaths.map((s) => [s, `./${entries[s]}`]));
}

/** How the repository resolves its own package name (deno.json `imports`, tsconfig `paths`). */
export function selfImports(name: string): Record<string, string> {
  return Object.fromEntries(
    subpaths.map((s) => [s === "." ? name : `${name}/${s.slice(2)}`, `./${entries[s]}`]),
  );
}
