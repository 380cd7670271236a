/**
 * The chat page's behaviour, in the browser: one `polysocket/client` connection
 * to the chat server's WebSocket path (`<body data-chat-path>`, default /chat), the
 * message list, who is online, and the connection state.
 * `?minDelay=&maxDelay=` in the page URL tune the reconnect backoff (used by tests).
 */
import { type ClientOptions, connect } from "polysocket/client";

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const params = new URLSearchParams(location.search);
const option = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
// The page is a room's client: it speaks the resumable protocol from the start (open carries the id).
const options: ClientOptions = { resume: true, minDelay: option("minDelay"), maxDelay: option("maxDelay") };
const client = connect(new URL(document.body.dataset.chatPath ?? "/chat", location.href), options);
let countdown: ReturnType<typeof setInterval> | undefined;

function showState(state: string, text: string): void {
  clearInterval(countdown);
  $("state").dataset.state = state;
  $("state").textContent = text;
}

function append(text: string, kind: "message" | "notice"): void {
  const list = $("messages");
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(item);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

client.on("open", ({ id }) => {
  showState("connected", "connected");
  $("me").textContent = `User ${id}`;
});
client.on("message", ({ data }) => append(data, "message"));
client.on("presence", ({ online }) => {
  $("online").replaceChildren(
    ...online.map((id) => {
      const item = document.createElement("li");
      item.textContent = id === client.id ? `User ${id} (you)` : `User ${id}`;
      return item;
    }),
  );
});
client.on("notice", ({ text }) => append(text, "notice"));
client.on("gap", (gap) => {
  const what =
    gap.reason === "history" ? `messages ${gap.from}–${gap.to}` : "messages (the server restarted)";
  append(`Missed ${what}: too old to replay.`, "notice");
});
client.on("reconnecting", ({ delay }) => {
  const at = Date.now() + delay;
  const tick = () => {
    const seconds = Math.ceil((at - Date.now()) / 1000);
    $("state").textContent = seconds > 0 ? `reconnecting in ${seconds}s` : "reconnecting…";
  };
  showState("reconnecting", "");
  tick();
  countdown = setInterval(tick, 250);
});
client.on("close", ({ willRetry, code }) => {
  if (!willRetry) showState("offline", `offline (${code})`);
});

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("input") as HTMLInputElement;
  if (input.value === "") return;
  if (client.send(input.value) === "dropped")
    append(`Not sent (offline, queue full): ${input.value}`, "notice");
  input.value = "";
});
