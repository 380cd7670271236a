/**
 * The chat page for one `ChatRoom` (examples/chat.ts, `polysocket chat`): the
 * message list, who is online, and the send form; the server's texts as they come.
 */
import type { Client } from "polysocket/client";
import { $, appendMessages, gapText, item } from "./dom.ts";

/** Wires the single-room page to `client`. */
export function runChatView(client: Client): void {
  const append = (text: string, kind: "message" | "notice") => appendMessages(item(text, kind));
  client.on("open", ({ id }) => {
    $("me").textContent = `User ${id}`;
  });
  client.on("message", ({ data }) => append(data, "message"));
  client.on("presence", ({ online }) => {
    $("online").replaceChildren(
      ...online.map((id) => item(id === client.id ? `User ${id} (you)` : `User ${id}`, "member")),
    );
  });
  client.on("notice", ({ text }) => append(text, "notice"));
  client.on("gap", (gap) => append(gapText(gap), "notice"));
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("input") as HTMLInputElement;
    if (input.value === "") return;
    if (client.send(input.value) === "dropped")
      append(`Not sent (offline, queue full): ${input.value}`, "notice");
    input.value = "";
  });
}
