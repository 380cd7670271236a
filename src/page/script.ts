/**
 * The chat page's browser code for `polysocket chat`. The published command
 * reads dist/chat-page.js, which `npm run build` writes beside dist/cli.js, so
 * users need no bundler. Run from the sources (tsx, bun or deno on
 * src/cli/bin.ts) there is no such file: esbuild, a devDependency, bundles
 * browser.ts on the spot, so the page always matches the sources.
 */
import { readFile } from "node:fs/promises";

/** Resolves with the page's script (browser.ts and `polysocket/client`, one ES module). */
export async function chatPageScript(): Promise<string> {
  // tsup replaces this with the bundle's file name (tsup.config.ts, `define`); the
  // other branch, and esbuild with it, is then left out of dist/cli.js.
  if (process.env.POLYSOCKET_CHAT_PAGE_ASSET) {
    return readFile(new URL(`./${process.env.POLYSOCKET_CHAT_PAGE_ASSET}`, import.meta.url), "utf8");
  } else {
    const { bundleChatPage } = await import("./bundle.ts");
    return bundleChatPage();
  }
}
