/**
 * The chat page for a `Rooms` server (examples/rooms.ts): the rooms joined
 * (each with its unread count), a form to join one by name, the selected
 * room's messages and who is in it, and the nickname the server gave us.
 *
 * Conventions it reads (what examples/rooms.ts sends): a message is text (the
 * server's own, e.g. "alice joined lobby"), or `{ from, text }` (what a member
 * said: only these count as unread); a presence entry is text, or `{ id, nick }`
 * (`id` marks "you").
 */
import type { Client, ClientRoom, JsonValue, RoomData } from "polysocket/client";
import { $, appendMessages, gapText, item } from "./dom.ts";

interface RoomView {
  readonly room: ClientRoom;
  readonly log: HTMLLIElement[];
  readonly entry: HTMLLIElement;
  unread: number;
}

/** Wires the rooms page to `client`, joining `initial` (the first is shown). */
export function runRoomsView(client: Client, initial: readonly string[], nick: string | undefined): void {
  const views = new Map<string, RoomView>();
  let current: string | undefined;
  if (nick) $("me").textContent = nick;
  client.on("open", ({ id }) => {
    if (!nick && $("me").textContent === "…") $("me").textContent = `User ${id}`;
  });

  const show = (name: string) => {
    const view = views.get(name);
    if (!view) return;
    current = name;
    view.unread = 0;
    for (const other of views.values()) other.entry.classList.toggle("current", other === view);
    badge(view);
    $("room-title").textContent = name;
    $("messages").replaceChildren(...view.log);
    $("messages").scrollTop = $("messages").scrollHeight;
    renderOnline(view);
  };

  const onlineByRoom = new Map<string, readonly JsonValue[]>();
  const renderOnline = (view: RoomView) => {
    const online = onlineByRoom.get(view.room.name) ?? [];
    $("online").replaceChildren(...online.map((info) => item(memberText(info, client.id), "member")));
  };

  const add = (view: RoomView, text: string, kind: "message" | "notice", said = false) => {
    const li = item(text, kind);
    view.log.push(li);
    if (view.room.name === current) appendMessages(li);
    else if (said) {
      view.unread++;
      badge(view);
    }
  };

  const join = (name: string) => {
    if (views.has(name)) return;
    const room = client.join(name);
    const view: RoomView = { room, log: [], entry: roomEntry(name, show, () => room.leave()), unread: 0 };
    views.set(name, view);
    $("rooms").append(view.entry);
    room.on("message", ({ data }) => add(view, messageText(data), "message", typeof data !== "string"));
    room.on("notice", ({ text }) => add(view, text, "notice"));
    room.on("nack", ({ reason }) => add(view, `Not delivered: ${reason}`, "notice"));
    room.on("gap", (gap) => add(view, gapText(gap), "notice"));
    room.on("presence", ({ online }) => {
      onlineByRoom.set(name, online);
      const mine = online.find((info) => isMe(info, client.id));
      if (mine !== undefined) $("me").textContent = memberName(mine);
      if (name === current) renderOnline(view);
    });
    room.on("left", ({ reason }) => {
      views.delete(name);
      onlineByRoom.delete(name);
      view.entry.remove();
      if (name === current) {
        current = undefined;
        const next = views.keys().next().value;
        if (next !== undefined) show(next);
        else $("room-title").textContent = "no room";
      }
      // Said where the reader is now: in the room shown, or alone when none is left.
      const shown = current === undefined ? undefined : views.get(current);
      if (reason && shown) add(shown, `Left ${name}: ${reason}`, "notice");
      else if (reason) appendMessages(item(`Left ${name}: ${reason}`, "notice"));
    });
    if (current === undefined) show(name);
  };

  for (const name of initial) join(name);
  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("join-input") as HTMLInputElement;
    const name = input.value.trim();
    if (name === "") return;
    try {
      join(name);
      show(name);
      input.value = "";
    } catch (error) {
      appendMessages(item((error as Error).message, "notice"));
    }
  });
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("input") as HTMLInputElement;
    const view = current === undefined ? undefined : views.get(current);
    if (input.value === "" || !view) return;
    const text = input.value;
    // A refusal shows through the room's nack event; only a full queue is told here.
    view.room.publish(text).catch((error: { code?: string }) => {
      if (error.code === "overflow") add(view, `Not sent (queue full): ${text}`, "notice");
    });
    input.value = "";
  });
}

/** The rooms list entry: the name (selects it), its unread badge, and a leave button. */
function roomEntry(name: string, select: (name: string) => void, leave: () => void): HTMLLIElement {
  const li = document.createElement("li");
  li.dataset.room = name;
  const open = document.createElement("button");
  open.className = "name";
  open.textContent = name;
  open.addEventListener("click", () => select(name));
  const unread = document.createElement("span");
  unread.className = "unread";
  unread.hidden = true;
  const close = document.createElement("button");
  close.className = "leave";
  close.title = `Leave ${name}`;
  close.textContent = "×";
  close.addEventListener("click", leave);
  li.append(open, unread, close);
  return li;
}

function badge(view: RoomView): void {
  const unread = view.entry.querySelector(".unread") as HTMLElement;
  unread.textContent = String(view.unread);
  unread.hidden = view.unread === 0;
}

/** A message as a line: text as is, `{ from, text }` as "from: text", bytes by their length. */
function messageText(data: RoomData): string {
  if (typeof data === "string") return data;
  if (data instanceof Uint8Array) return `[${data.length} bytes]`;
  if (typeof data === "object" && data !== null && !Array.isArray(data)) {
    const { from, text } = data as Record<string, JsonValue>;
    if (typeof text === "string") return typeof from === "string" ? `${from}: ${text}` : text;
  }
  return JSON.stringify(data);
}

const isMe = (info: JsonValue, id: string | undefined): boolean =>
  id !== undefined && typeof info === "object" && info !== null && (info as { id?: unknown }).id === id;

function memberName(info: JsonValue): string {
  if (typeof info === "string") return info;
  if (typeof info === "object" && info !== null && !Array.isArray(info)) {
    const { nick, name, id } = info as Record<string, JsonValue>;
    for (const value of [nick, name, id]) if (typeof value === "string") return value;
  }
  return JSON.stringify(info);
}

const memberText = (info: JsonValue, id: string | undefined): string =>
  isMe(info, id) ? `${memberName(info)} (you)` : memberName(info);
