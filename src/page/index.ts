/**
 * `polysocket/page`: the chat page as an application serves it, for one
 * `ChatRoom` or for `Rooms` (rooms list, unread counts, nicknames), in any
 * browser, with `polysocket/client` inside. It is the page `polysocket chat`
 * and the examples serve: `/` (HTML), `/app.js` (its script) and the icon.
 *
 * @example
 * ```ts run=open
 * import { Rooms, Server } from "polysocket";
 * import { chatPage } from "polysocket/page";
 * const rooms = new Rooms();
 * const server = new Server({
 *   path: "/rooms",
 *   onConnect: (conn) => rooms.accept(conn),
 *   onMessage: (conn, raw) => void rooms.receive(conn, raw),
 *   onDisconnect: (conn) => rooms.drop(conn),
 *   onRequest: await chatPage({ path: "/rooms", mode: "rooms", rooms: ["lobby"] }),
 * });
 * await server.listen();
 * ```
 * @module
 */
export { type ChatPageOptions, chatPageHandler } from "./handler.ts";
export type { ChatPageMode } from "./html.ts";
export { chatPage } from "./serve.ts";
