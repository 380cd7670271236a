/**
 * Bundles the chat page's browser code (browser.ts and `polysocket/client`) with
 * esbuild, in memory: what examples/chat.ts and `polysocket chat` run from the
 * sources serve as /app.js. The published command reads the same bundle, built
 * by tsup, from dist/chat-page.js instead (script.ts).
 */
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/**
 * The options of the bundle, shared with the tsup build so both are the same script.
 * The client imports `ws` only where there is no global WebSocket: never in a browser.
 */
export const BROWSER_BUNDLE: Pick<esbuild.BuildOptions, "format" | "platform" | "target" | "external"> = {
  format: "esm",
  platform: "browser",
  target: "es2022",
  external: ["ws"],
};

/** Resolves with the browser code as one ES module. Nothing is written to disk. */
export async function bundleChatPage(): Promise<string> {
  const result = await esbuild.build({
    ...BROWSER_BUNDLE,
    entryPoints: [fileURLToPath(new URL("./browser.ts", import.meta.url))],
    bundle: true,
    write: false,
    // `polysocket/client` resolves like any import: through tsconfig `paths` in this
    // repository, through node_modules where polysocket is installed.
    logLevel: "warning",
  });
  // Deno waits for esbuild's service process unless it is stopped.
  await esbuild.stop();
  return result.outputFiles[0]!.text;
}
