/**
 * Serves the chat page through a server's `onRequest`: `/` is the HTML, `/app.js`
 * the bundled browser code, `/favicon.svg` and `/favicon.ico` its icon. Shared by
 * `polysocket chat`, examples/chat.ts and examples/rooms.ts.
 */
// By package name, not `../../index.ts`: examples/chat.ts uses this file where polysocket is installed.
import type { RequestHandler } from "polysocket";
import { type ChatPageMode, pageHtml } from "./html.ts";
import { ICON_SVG } from "./icon.ts";

/** Where the page connects and how it behaves. */
export interface ChatPageOptions {
  /** The WebSocket path. Default "/chat". */
  path?: string;
  /** "chat" for one `ChatRoom` (default), "rooms" for a `Rooms` server. */
  mode?: ChatPageMode;
  /** Rooms mode: the rooms the page joins first (`?rooms=a,b` in the page URL overrides). Default ["lobby"]. */
  rooms?: readonly string[];
}

/**
 * The `onRequest` handler serving the page and `script` (the bundled browser.ts);
 * the second argument is the WebSocket path, or {@link ChatPageOptions}.
 */
export function chatPageHandler(script: string, options: string | ChatPageOptions = {}): RequestHandler {
  const {
    path = "/chat",
    mode = "chat",
    rooms = [],
  } = typeof options === "string" ? { path: options } : options;
  const html = pageHtml(path, mode, rooms);
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
