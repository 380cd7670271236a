/**
 * The chat page's HTML and CSS; the behaviour is in browser.ts (served as /app.js).
 * The WebSocket path rides on `<body data-chat-path>` (`polysocket chat --path` can
 * move it), the mode on `data-mode`, the rooms joined first on `data-rooms`.
 */

/** Which server the page talks to: one `ChatRoom` ("chat") or a `Rooms` server ("rooms"). */
export type ChatPageMode = "chat" | "rooms";

/** The page for a server whose WebSocket listens on `chatPath` (e.g. "/chat"). */
export function pageHtml(
  chatPath: string,
  mode: ChatPageMode = "chat",
  rooms: readonly string[] = [],
): string {
  // The chat mode's body is as it always was: data-mode (and data-rooms) only for rooms.
  const rest = mode === "rooms" ? ` data-mode="rooms" data-rooms="${escapeAttribute(rooms.join(","))}"` : "";
  const data = `data-chat-path="${escapeAttribute(chatPath)}"${rest}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>polysocket chat</title>
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: grid; height: 100vh;
         grid-template: "head head" auto "list side" 1fr "form form" auto / 1fr 14rem; }
  body[data-mode="rooms"] { grid-template: "head head head" auto "rooms list side" 1fr "rooms form side" auto / 12rem 1fr 14rem; }
  header { grid-area: head; display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #223; color: #fff; }
  header h1 { font-size: 1rem; margin: 0; flex: 1; }
  #state { padding: .1rem .5rem; border-radius: 1rem; background: #a33; }
  #state[data-state="connected"] { background: #2a6; }
  #state[data-state="reconnecting"], #state[data-state="connecting"] { background: #c82; }
  #messages { grid-area: list; overflow-y: auto; margin: 0; padding: .5rem 1rem; list-style: none; }
  #messages li.notice { color: #a33; font-style: italic; }
  aside { grid-area: side; border-left: 1px solid #ccc; padding: .5rem 1rem; overflow-y: auto; }
  aside h2, nav h2 { font-size: .9rem; margin: 0 0 .5rem; }
  #online { margin: 0; padding-left: 1rem; }
  #form { grid-area: form; display: flex; gap: .5rem; padding: .5rem 1rem; border-top: 1px solid #ccc; }
  #input { flex: 1; font: inherit; padding: .3rem; }
  nav { grid-area: rooms; border-right: 1px solid #ccc; padding: .5rem; overflow-y: auto; }
  #rooms { list-style: none; margin: 0 0 .5rem; padding: 0; }
  #rooms li { display: flex; align-items: center; gap: .25rem; border-radius: .3rem; }
  #rooms li.current { background: #dde; }
  #rooms button { font: inherit; border: 0; background: none; cursor: pointer; padding: .2rem .3rem; }
  #rooms .name { flex: 1; text-align: left; }
  #rooms .unread { background: #36c; color: #fff; border-radius: 1rem; padding: 0 .4rem; font-size: .8rem; }
  #join-form { display: flex; gap: .25rem; }
  #join-input { width: 100%; font: inherit; padding: .2rem; }
</style>
</head>
<body ${data}>
<header>
  <h1>polysocket chat${mode === "rooms" ? ` · <span id="room-title">…</span>` : ""}</h1>
  <span>You are <strong id="me">…</strong></span>
  <span id="state" data-state="connecting" role="status">connecting…</span>
</header>
${mode === "rooms" ? ROOMS_NAV : ""}<ul id="messages" aria-live="polite"></ul>
<aside><h2>Online</h2><ul id="online"></ul></aside>
<form id="form"><input id="input" autocomplete="off" placeholder="Say something" aria-label="Message"><button>Send</button></form>
<script type="module" src="/app.js"></script>
</body>
</html>
`;
}

const ROOMS_NAV = `<nav><h2>Rooms</h2><ul id="rooms"></ul>
<form id="join-form"><input id="join-input" autocomplete="off" placeholder="Join a room" aria-label="Room to join"><button>Join</button></form></nav>
`;

function escapeAttribute(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}
