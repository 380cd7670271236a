/**
 * The chat page, served by the chat server on its own port through `onRequest`:
 * `/` is the HTML, `/app.js` the browser code (examples/chat/browser.ts and
 * `polysocket/client`), bundled with esbuild when the server starts. Nothing
 * generated is written to disk.
 */
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import type { RequestHandler } from "polysocket";
import { PAGE_HTML } from "./html.ts";

/** Bundles the browser code; resolves with the `onRequest` handler that serves the page. */
export async function chatPage(): Promise<RequestHandler> {
  const script = await bundle();
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    switch (new URL(request.url).pathname) {
      case "/":
        return new Response(PAGE_HTML, { headers: { "content-type": "text/html; charset=utf-8" } });
      case "/app.js":
        return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8" } });
      default:
        return undefined;
    }
  };
}

async function bundle(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./browser.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The client imports `ws` only where there is no global WebSocket: never in a browser.
    external: ["ws"],
    // `polysocket/client` resolves like any import: through tsconfig `paths` in this
    // repository, through node_modules where polysocket is installed.
    logLevel: "warning",
  });
  // Deno waits for esbuild's service process unless it is stopped.
  await esbuild.stop();
  return result.outputFiles[0]!.text;
}
