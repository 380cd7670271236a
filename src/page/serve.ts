/**
 * `chatPage()`: the chat page as an application serves it (`polysocket/page`).
 * The browser code comes from the package's build (dist/chat-page.js, beside
 * this module once bundled); run from the sources, esbuild (a devDependency of
 * the repository) bundles it on the spot instead. From JSR there is neither:
 * pass `script` (the page's browser code, bundled by you).
 */
import type { RequestHandler } from "polysocket";
import { type ChatPageOptions, chatPageHandler } from "./handler.ts";

export type { ChatPageOptions } from "./handler.ts";
export type { ChatPageMode } from "./html.ts";

/**
 * Resolves with an `onRequest` handler serving the chat page: `/` (HTML),
 * `/app.js` (its script, with `polysocket/client`) and the icon. `mode: "rooms"`
 * for a `Rooms` server (rooms list, unread counts, nicknames from presence),
 * "chat" (the default) for one `ChatRoom`. The page passes its own `?token=`
 * and `?nick=` on to the WebSocket URL. `script` serves that browser code
 * instead of the built one (e.g. a bundle of src/page/browser.ts of your own).
 *
 * @example
 * ```ts run=no
 * import { Rooms, Server } from "polysocket";
 * import { chatPage } from "polysocket/page";
 * const rooms = new Rooms();
 * const server = new Server({
 *   port: 8080,
 *   path: "/rooms",
 *   onConnect: (conn) => rooms.accept(conn),
 *   onMessage: (conn, raw) => void rooms.receive(conn, raw),
 *   onDisconnect: (conn) => rooms.drop(conn),
 *   onRequest: await chatPage({ path: "/rooms", mode: "rooms", rooms: ["lobby"] }),
 * });
 * await server.listen();
 * ```
 */
export async function chatPage(options: ChatPageOptions & { script?: string } = {}): Promise<RequestHandler> {
  const { script: given, ...page } = options;
  return chatPageHandler(given ?? (await pageScript()), page);
}

let script: Promise<string> | undefined;

/** The page's browser code, read (or bundled) once per process. */
function pageScript(): Promise<string> {
  script ??= builtScript()
    .then((text) => text ?? bundledScript())
    .catch((error: unknown) => {
      script = undefined; // a later call may succeed (esbuild installed meanwhile)
      throw error;
    });
  return script;
}

/** dist/chat-page.js, beside the bundled module; `undefined` when running from the sources. */
async function builtScript(): Promise<string | undefined> {
  const { readFile } = await import("node:fs/promises");
  // CommonJS has no import.meta; the ESM builds and the sources have no __filename (Bun defines both).
  const here =
    typeof __filename === "string" ? (await import("node:url")).pathToFileURL(__filename) : import.meta.url;
  try {
    return await readFile(new URL("./chat-page.js", here), "utf8");
  } catch {
    return undefined;
  }
}

async function bundledScript(): Promise<string> {
  // A computed specifier: the package build must not follow it (esbuild is not a dependency).
  const bundler = "./bundle.ts";
  let bundle: typeof import("./bundle.ts");
  try {
    bundle = await import(bundler);
  } catch (error) {
    throw new Error(
      "chatPage: no built page script (dist/chat-page.js) and no esbuild to bundle one: pass options.script",
      { cause: error },
    );
  }
  return bundle.bundleChatPage();
}
