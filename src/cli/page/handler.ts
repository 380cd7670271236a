/**
 * Serves the chat page through a server's `onRequest`: `/` is the HTML, `/app.js`
 * the bundled browser code, `/favicon.svg` and `/favicon.ico` its icon. Shared by
 * `polysocket chat` and examples/chat.ts.
 */
// By package name, not `../../index.ts`: examples/chat.ts uses this file where polysocket is installed.
import type { RequestHandler } from "polysocket";
import { pageHtml } from "./html.ts";
import { ICON_SVG } from "./icon.ts";

/** The `onRequest` handler serving the page and `script` (the bundled browser.ts); `chatPath` is the WebSocket path. */
export function chatPageHandler(script: string, chatPath = "/chat"): RequestHandler {
  const html = pageHtml(chatPath);
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    switch (new URL(request.url).pathname) {
      case "/":
        return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
      case "/app.js":
        return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8" } });
      case "/favicon.svg":
      case "/favicon.ico":
        return new Response(ICON_SVG, { headers: { "content-type": "image/svg+xml" } });
      default:
        return undefined;
    }
  };
}
