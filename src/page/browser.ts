/**
 * The chat page's behaviour, in the browser: one `polysocket/client` connection
 * to the server's WebSocket path (`<body data-chat-path>`), in one of two modes
 * (`<body data-mode>`): "chat" for one `ChatRoom` (chat-view.ts), "rooms" for a
 * `Rooms` server (rooms-view.ts).
 *
 * Page URL parameters: `?minDelay=&maxDelay=` tune the reconnect backoff (used
 * by tests); `?token=` and `?nick=` are passed on to the WebSocket URL (for a
 * server that authenticates at the upgrade); `?rooms=a,b` are the rooms joined first.
 */
import { type ClientOptions, connect } from "polysocket/client";
import { runChatView } from "./chat-view.ts";
import { trackState } from "./dom.ts";
import { runRoomsView } from "./rooms-view.ts";

const params = new URLSearchParams(location.search);
const option = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
const { mode = "chat", rooms = "" } = document.body.dataset;
const url = new URL(document.body.dataset.chatPath ?? "/chat", location.href);
for (const name of ["token", "nick"]) {
  const value = params.get(name);
  if (value !== null) url.searchParams.set(name, value);
}
// The page is a room's client: it speaks the resumable protocol from the start (open carries the id).
const options: ClientOptions = { resume: true, minDelay: option("minDelay"), maxDelay: option("maxDelay") };
const client = connect(url, options);
trackState(client);
if (mode === "rooms") {
  const initial = (params.get("rooms") ?? (rooms || "lobby")).split(",").filter((name) => name !== "");
  runRoomsView(client, initial, params.get("nick") ?? undefined);
} else {
  runChatView(client);
}
