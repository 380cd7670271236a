/**
 * The package's public entry points, in one place. The tsup build, the npm
 * export map, the JSR export map (deno.json), Deno's import map and the
 * tsconfig paths are all derived from, or checked against, this list
 * (`scripts/check-exports.ts`). Adding an entry is one line here, then
 * `npm run exports:write`.
 */

/** Subpath (as users import it, relative to the package) → its TypeScript source. */
export const entries: Readonly<Record<string, string>> = {
  ".": "src/index.ts",
  "./node": "src/adapters/node/index.ts",
  "./bun": "src/adapters/bun/index.ts",
  "./deno": "src/adapters/deno/index.ts",
  "./client": "src/client/index.ts",
  "./redis": "src/redis/index.ts",
  "./hono": "src/hono/index.ts",
  "./metrics": "src/metrics/index.ts",
  "./page": "src/page/index.ts",
};

/** Subpaths that pin one runtime; `"."` resolves to them by export condition. */
export const runtimeSubpaths: readonly string[] = ["./bun", "./deno", "./node"];

/** The `polysocket` command: built to `dist/cli.js` (package.json `bin`), never imported. */
export const cliSource: string = "src/cli/bin.ts";

/**
 * The chat page's browser code, which `polysocket chat` serves as /app.js: built
 * to `dist/chat-page.js` and read by the command at run time. Not an entry point.
 */
export const chatPageSource: string = "src/page/browser.ts";
/** The file name in `dist/` (without extension) of the chat page's browser code. */
export const chatPageAsset: string = "chat-page";

/** The package name on npm. */
export const npmName: string = "polysocket";
/** The package name on JSR. */
export const jsrName: string = "@polysocket/polysocket";

/** The file name in `dist/` (without extension) of an entry: `.` → `index`, `./node` → `node`. */
export function distName(subpath: string): string {
  return subpath === "." ? "index" : subpath.slice(2).replaceAll("/", "-");
}
