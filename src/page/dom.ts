/**
 * What both modes of the chat page share in the browser: element lookup, the
 * connection state badge (with the reconnect countdown), and list items.
 */
import type { Client } from "polysocket/client";

/** The element with `id` (the page's HTML has them all). */
export const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

let countdown: ReturnType<typeof setInterval> | undefined;

/** Shows connection state `state` (also `data-state`, which tests and CSS read) with `text`. */
export function showState(state: string, text: string): void {
  clearInterval(countdown);
  $("state").dataset.state = state;
  $("state").textContent = text;
}

/** Keeps the state badge in step with `client`: connected, reconnecting in Ns, offline (code). */
export function trackState(client: Client): void {
  client.on("open", () => showState("connected", "connected"));
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
}

/** A list item of class `kind` showing `text`. */
export function item(text: string, kind: string): HTMLLIElement {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = text;
  return li;
}

/** Appends `items` to the message list, following the bottom if the reader was there. */
export function appendMessages(...items: HTMLLIElement[]): void {
  const list = $("messages");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

/** The text of a gap event, as a notice. */
export function gapText(
  gap: { reason: "history"; from: number; to: number } | { reason: "restart" },
): string {
  const what =
    gap.reason === "history" ? `messages ${gap.from}–${gap.to}` : "messages (the server restarted)";
  return `Missed ${what}: too old to replay.`;
}
