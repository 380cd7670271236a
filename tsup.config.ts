/**
 * npm build: ESM + CJS + declarations for every entry in scripts/entries.ts,
 * plus the `polysocket` command (ESM only) and the browser code of the chat page
 * it serves (dist/chat-page.js, a static asset, not an entry point). The sources import with explicit
 * `.ts` extensions; esbuild resolves them and the bundled output has none.
 */
import { defineConfig, type Options } from "tsup";
import { chatPageAsset, chatPageSource, cliSource, distName, entries } from "./scripts/entries.ts";
import { BROWSER_BUNDLE } from "./src/page/bundle.ts";

const shared: Options = {
  outDir: "dist",
  platform: "node", // Bun and Deno run Node-targeted ESM/CJS; only `ws` and `node:*` stay external
  target: "es2022",
  sourcemap: false,
  treeshake: true,
  removeNodeProtocol: false, // keep `node:http` etc.: unambiguous on Deno and Bun too
};

const library: Options = {
  ...shared,
  entry: Object.fromEntries(Object.entries(entries).map(([subpath, source]) => [distName(subpath), source])),
  format: ["esm", "cjs"],
  // ESM shares one core chunk between entries, so `polysocket` and `polysocket/node`
  // are the same classes (`instanceof` holds across them).
  splitting: true,
  // `@internal` members (engine plumbing on Connection) stay out of users' types.
  dts: { compilerOptions: { stripInternal: true } },
  clean: true,
};

const cli: Options = {
  ...shared,
  entry: { cli: cliSource },
  format: ["esm"],
  splitting: true,
  dts: false,
  clean: false,
  // The command reads the page's script from the file built below (src/page/script.ts).
  define: { "process.env.POLYSOCKET_CHAT_PAGE_ASSET": JSON.stringify(`${chatPageAsset}.js`) },
};

/** What `polysocket chat` serves as /app.js: the same bundle esbuild makes from the sources. */
const chatPage: Options = {
  ...shared,
  ...BROWSER_BUNDLE,
  entry: { [chatPageAsset]: chatPageSource },
  splitting: false,
  dts: false,
  clean: false,
};

export default defineConfig([library, cli, chatPage]) as Options[];
