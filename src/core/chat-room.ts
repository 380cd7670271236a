/**
 * `ChatRoom`: the seed's chat semantics, with a bounded history and a
 * newcomer who sees every message exactly once. It is one {@link Room} with the
 * specification's texts ("User {id} joined the chat") as its join and leave
 * notices. Plain WebSocket clients get the seed's plain text; `polysocket/client`
 * gets the resumable protocol (see resume-protocol.ts): sequence numbers,
 * replay after a reconnect, gaps.
 */
import type { Connection } from "./connection.ts";
import { refusalText } from "./inbound.ts";
import type { Refusal } from "./options.ts";
import { decodeClientText, encodeFrame, parseResume } from "./resume-protocol.ts";
import { MemoryRoomStore } from "./rooms/memory-store.ts";
import { Room, type RoomPolicy } from "./rooms/room.ts";
import type { Member, RoomStore } from "./rooms/store.ts";
import { describe, rejectUnknown } from "./validate.ts";

/** Options of a {@link ChatRoom}. */
export interface ChatRoomOptions {
  /** Messages kept for newcomers and for resuming clients; the oldest go first. Default 1000. */
  historyLimit?: number;
  /** Where a {@link ChatRoom.broadcast} or notice that the store refused is reported. Default `console.error`. */
  onError?: (error: unknown) => void;
}

/** Options of {@link ChatRoom.open}: a room whose messages live in a shared store. */
export interface SharedChatRoomOptions extends ChatRoomOptions {
  /** Where the room's messages live (e.g. a `polysocket/redis` store): every process opening `name` in it serves one room. */
  store: RoomStore;
  /** The room's name in the store. Default "chat". */
  name?: string;
  /** Whether {@link ChatRoom.close} closes the store too (it was opened for this room alone). Default false. */
  ownsStore?: boolean;
}

const joinText = (member: Member): string => `User ${member.id} joined the chat`;
const leaveText = (member: Member): string => `User ${member.id} left the chat`;

/** A room of connections sharing one message stream and its recent history. */
export class ChatRoom {
  /** Members by connection id. */
  readonly clients: Map<string, Connection> = new Map();
  readonly #room: Room;
  readonly #onError: (error: unknown) => void;
  readonly #closeStore: (() => Promise<void>) | undefined;
  /** Handed from {@link open} to the constructor (synchronously, so nothing can interleave). */
  static #opened: { room: Room; policy: RoomPolicy; closeStore?: () => Promise<void> } | undefined;

  /** Creates an empty room in this process's memory; throws `TypeError` for a bad option. */
  constructor(options: ChatRoomOptions = {}) {
    const opened = ChatRoom.#opened;
    ChatRoom.#opened = undefined;
    if (opened) {
      this.#room = opened.room;
      this.#onError = opened.policy.onError;
      this.#closeStore = opened.closeStore;
      return;
    }
    const policy = chatPolicy(options, ["historyLimit", "onError"]);
    const store = new MemoryRoomStore();
    this.#room = new Room(store, "chat", policy);
    this.#room.start(store.openNow("chat", policy.limits, this.#room.listener));
    this.#onError = policy.onError;
  }

  /**
   * A room whose messages live in `options.store`, shared by every process
   * that opens the same `name` there; resolves once the store has it open.
   */
  static async open(options: SharedChatRoomOptions): Promise<ChatRoom> {
    const policy = chatPolicy(options, ["historyLimit", "onError", "store", "name", "ownsStore"]);
    const { store, name = "chat" } = options;
    const room = await Room.open(store, name, policy);
    ChatRoom.#opened = { room, policy };
    if (options.ownsStore) ChatRoom.#opened.closeStore = () => store.close();
    return new ChatRoom();
  }

  /** Id of the room's numbering (random, or the store's, shared by every process); resuming clients from another epoch start over. */
  get epoch(): string {
    return this.#room.epoch;
  }

  /** The most recent messages, oldest first, at most `historyLimit` of them. */
  get messageHistory(): readonly string[] {
    return this.#room.history.map((entry) => String(entry.data));
  }

  /** Sequence number of the latest message (0 before the first). */
  get lastSeq(): number {
    return this.#room.lastSeq;
  }

  /**
   * Records `message` in the history (with the next sequence number) and sends
   * it to every member (of every process, with a shared store, once stored);
   * a refusal goes to `onError`.
   */
  broadcast(message: string): void {
    this.publish(message).catch(this.#onError);
  }

  /**
   * {@link broadcast}, telling the caller the outcome: resolves with the
   * message's sequence number once it is stored, rejects if the store refused
   * it (e.g. it is unreachable), in which case nobody receives it.
   */
  publish(message: string): Promise<number> {
    return this.#room.publish(message);
  }

  /** Stops serving the room here (and closes the store if the room owns it); the members stay connected. */
  async close(): Promise<void> {
    await this.#room.release();
    await this.#closeStore?.();
  }

  /**
   * Replays the history to `conn` once (for a resuming client: only what it
   * missed, after a `welcome`), then admits it and announces the join.
   */
  addClient(conn: Connection): void {
    if (this.#room.has(conn)) return;
    const resume = parseResume(conn.url);
    this.clients.set(conn.id, conn);
    const room = this.#room;
    if (resume === undefined) {
      room.add(conn, "plain", conn.id);
      return;
    }
    conn.send(encodeFrame({ type: "welcome", id: conn.id, epoch: room.epoch, seq: room.lastSeq }));
    room.add(conn, "bare", conn.id, resume === "new" ? undefined : resume);
  }

  /** Removes `conn` and announces the leave to the others. */
  removeClient(conn: Connection): void {
    this.clients.delete(conn.id);
    this.#room.remove(conn);
  }

  /**
   * Unwraps one incoming text message: the chat text for the application, or
   * `undefined` for protocol frames (pings are answered here) and malformed ones.
   * Plain clients' messages come back unchanged.
   *
   * @example
   * ```ts
   * import { ChatRoom, Server } from "polysocket";
   * const room = new ChatRoom();
   * const server = new Server({
   *   onMessage(conn, raw) {
   *     const message = room.receive(conn, raw);
   *     if (message !== undefined) room.broadcast(`User ${conn.id}: ${message}`);
   *   },
   * });
   * ```
   */
  receive(conn: Connection, raw: string): string | undefined {
    if (!this.#resumable(conn)) return raw;
    const frame = decodeClientText(raw);
    if (frame?.type === "ping") conn.send(encodeFrame({ type: "pong" }));
    return frame?.type === "message" ? frame.data : undefined;
  }

  /**
   * A message rule (default: the chat's, {@link validateChatMessage}) for the
   * server's `validate` option, applied to the text a resumable frame carries;
   * the protocol's own frames (pings) pass. A resumable member's refusal comes
   * back as a `notice` frame (`polysocket/client` emits a `notice` event).
   */
  validate(
    conn: Connection,
    raw: string | Uint8Array,
    rule: (message: string | Uint8Array) => true | string = validateChatMessage,
  ): true | string | Refusal {
    if (typeof raw !== "string" || !this.#resumable(conn)) return rule(raw);
    const frame = decodeClientText(raw);
    const verdict = frame?.type === "message" ? rule(frame.data) : true;
    if (verdict === true) return true;
    return { reason: verdict, reply: noticeFrame(refusalText(verdict)) };
  }

  /**
   * Sends `text` to one member alone, outside the room's history: as it is to a
   * plain client, as a `notice` frame to a resumable one (e.g. "Message not
   * delivered: …" when the broker refused a message). Returns what `send` returned.
   */
  notify(conn: Connection, text: string): boolean {
    return conn.send(this.#resumable(conn) ? noticeFrame(text) : text);
  }

  #resumable(conn: Connection): boolean {
    return this.#room.kindOf(conn) === "bare";
  }
}

/** The room policy of a `ChatRoom`'s options; `TypeError` for a bad one. */
function chatPolicy(options: ChatRoomOptions, names: readonly string[]): RoomPolicy {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  rejectUnknown(options, names);
  const { historyLimit = 1000 } = options;
  if (!Number.isInteger(historyLimit) || historyLimit < 0) {
    throw new TypeError(`options.historyLimit must be a non-negative integer, got ${describe(historyLimit)}`);
  }
  return {
    limits: { historyLimit, maxAge: undefined },
    joinNotice: joinText,
    leaveNotice: leaveText,
    onError: options.onError ?? console.error,
  };
}

/** A `notice` frame: text for one resumable client, outside the numbered stream. */
function noticeFrame(text: string): string {
  return encodeFrame({ type: "notice", text });
}

/** Longest chat message {@link validateChatMessage} accepts, in characters. */
export const MAX_CHAT_MESSAGE = 2000;

// C0 and C1 control characters, DEL included: they garble other people's screens.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The chat's rule for a message, for the server's `validate` option: non-empty,
 * at most {@link MAX_CHAT_MESSAGE} characters, no control characters.
 *
 * @example
 * ```ts
 * import { Server, validateChatMessage } from "polysocket";
 * const server = new Server({ validate: (_conn, message) => validateChatMessage(message) });
 * ```
 */
export function validateChatMessage(message: string | Uint8Array): true | string {
  if (typeof message !== "string") return "text messages only";
  if (message.trim() === "") return "message is empty";
  if (message.length > MAX_CHAT_MESSAGE) return `message is over ${MAX_CHAT_MESSAGE} characters`;
  if (CONTROL.test(message)) return "message contains control characters";
  return true;
}
