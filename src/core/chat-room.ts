/**
 * `ChatRoom`: the seed's chat semantics, with a bounded history and a
 * newcomer who sees every message exactly once. Plain WebSocket clients get the
 * seed's plain text; `polysocket/client` gets the resumable protocol
 * (see resume-protocol.ts): sequence numbers, replay after a reconnect, gaps.
 */
import { Audience } from "./audience.ts";
import type { BrokerEntry, PresenceChange, RoomBroker } from "./broker.ts";
import type { Connection } from "./connection.ts";
import { randomId } from "./id.ts";
import { refusalText } from "./inbound.ts";
import type { Refusal } from "./options.ts";
import {
  decodeClientText,
  encodeFrame,
  parseResume,
  type ResumePoint,
  type ServerFrame,
} from "./resume-protocol.ts";
import { describe, rejectUnknown } from "./validate.ts";

/** Options of a {@link ChatRoom}. */
export interface ChatRoomOptions {
  /** Messages kept for newcomers and for resuming clients; the oldest go first. Default 1000. */
  historyLimit?: number;
  /**
   * Where the room's messages live when several processes serve it (e.g.
   * `polysocket/redis`); opened before the room is created. Default: none, the
   * room numbers and keeps its messages itself, in this process.
   */
  broker?: RoomBroker;
  /** Where a {@link ChatRoom.broadcast} that the broker refused is reported. Default `console.error`. */
  onError?: (error: unknown) => void;
}

type Entry = BrokerEntry;

/** A room of connections sharing one message stream and its recent history. */
export class ChatRoom {
  /** Members by connection id. */
  readonly clients: Map<string, Connection> = new Map();
  #epoch: string;
  readonly #history: Entry[] = [];
  readonly #limit: number;
  /** Members that speak the resumable protocol. */
  readonly #resumable = new Set<Connection>();
  /** Plain members: they get each message's text. */
  readonly #plain = new Audience();
  /** Resumable members that are not {@link #ahead}: they get each message's frame. */
  readonly #frames = new Audience();
  /**
   * Resuming members that are ahead of this room (they resumed past its latest
   * message, from another process of a shared room): the number they have, so
   * that messages up to it are not sent to them twice.
   */
  readonly #ahead = new Map<Connection, number>();
  #seq = 0;
  readonly #broker: RoomBroker | undefined;
  /** With a broker: who is online in every process serving the room. */
  readonly #online = new Set<string>();
  readonly #onError: (error: unknown) => void;

  /** Creates an empty room; throws `TypeError` for a bad `historyLimit`. */
  constructor(options: ChatRoomOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`options must be an object, got ${describe(options)}`);
    }
    rejectUnknown(options, ["historyLimit", "broker", "onError"]);
    const { historyLimit = 1000 } = options;
    if (!Number.isInteger(historyLimit) || historyLimit < 0) {
      throw new TypeError(
        `options.historyLimit must be a non-negative integer, got ${describe(historyLimit)}`,
      );
    }
    this.#limit = historyLimit;
    this.#broker = options.broker;
    this.#onError = options.onError ?? console.error;
    this.#epoch = this.#broker?.epoch ?? randomId();
    if (this.#broker) {
      this.#seq = this.#broker.lastSeq;
      if (historyLimit > 0) this.#history.push(...this.#broker.history.slice(-historyLimit));
      for (const id of this.#broker.online) this.#online.add(id);
      this.#broker.subscribe({
        message: (entry) => this.#deliver(entry),
        orphaned: (members) => {
          for (const id of members) this.#announce(`User ${id} left the chat`, { leave: id });
        },
        restarted: (epoch) => this.#restarted(epoch),
        revived: () => {
          for (const conn of this.clients.values()) {
            this.#announce(`User ${conn.id} joined the chat`, { join: conn.id });
          }
        },
      });
    }
  }

  /**
   * Id of the room's numbering (random, or the broker's, shared by every
   * process); resuming clients from another epoch start over.
   */
  get epoch(): string {
    return this.#epoch;
  }

  /** The most recent messages, oldest first, at most `historyLimit` of them. */
  get messageHistory(): readonly string[] {
    return this.#history.map((entry) => entry.text);
  }

  /** Sequence number of the latest message (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /**
   * Records `message` in the history (with the next sequence number) and sends
   * it to every member. With a broker, it goes through the broker and reaches
   * the members (of every process) once stored; a refusal goes to `onError`.
   */
  broadcast(message: string): void {
    if (this.#broker) this.publish(message).catch(this.#onError);
    else this.#deliver({ seq: this.#seq + 1, text: message });
  }

  /** A join or leave notice: with a broker, it also updates who is online in every process. */
  #announce(message: string, change: PresenceChange): void {
    if (this.#broker) this.#broker.publish(message, change).catch(this.#onError);
    else {
      this.#deliver({ seq: this.#seq + 1, text: message });
      this.#sendPresence();
    }
  }

  /**
   * {@link broadcast}, telling the caller the outcome: resolves with the
   * message's sequence number once it is stored, rejects if the broker refused
   * it (e.g. its store is unreachable), in which case nobody receives it.
   */
  publish(message: string): Promise<number> {
    if (this.#broker) return this.#broker.publish(message);
    this.#deliver({ seq: this.#seq + 1, text: message });
    return Promise.resolve(this.#seq);
  }

  /** Detaches from the broker (if any); the members stay connected. */
  async close(): Promise<void> {
    await this.#broker?.close();
  }

  /**
   * The broker's store lost the room: start over under the new epoch. Resumable
   * members are closed with 1012 (their clients reconnect and report the
   * restart); plain members stay, and their joins are announced again so that
   * every process knows they are online.
   */
  #restarted(epoch: string): void {
    this.#epoch = epoch;
    this.#seq = 0;
    this.#history.length = 0;
    this.#online.clear();
    this.#catchUp(Number.POSITIVE_INFINITY);
    for (const conn of this.clients.values()) {
      if (this.#resumable.has(conn)) conn.close(1012, "room restarted");
      else this.#announce(`User ${conn.id} joined the chat`, { join: conn.id });
    }
  }

  /** One message of the stream, in order: into the history, out to every member. */
  #deliver(entry: Entry): void {
    if (entry.seq <= this.#seq) return; // delivered before
    if (entry.seq > this.#seq + 1) {
      // The store trimmed messages before this process read them: the history is no longer consecutive.
      this.#history.length = 0;
      this.#toResumable(encodeFrame({ type: "gap", from: this.#seq + 1, to: entry.seq - 1 }));
    }
    this.#seq = entry.seq;
    if (entry.join !== undefined) this.#online.add(entry.join);
    if (entry.leave !== undefined) this.#online.delete(entry.leave);
    const message = entry.text;
    this.#history.push(entry);
    if (this.#history.length > this.#limit) this.#history.shift();
    if (this.#plain.size > 0) this.#plain.send(message);
    if (this.#ahead.size > 0) this.#catchUp(entry.seq);
    if (this.#frames.size > 0)
      this.#frames.send(encodeFrame({ type: "message", seq: entry.seq, data: message }));
    if (entry.join !== undefined || entry.leave !== undefined) this.#sendPresence();
  }

  /** Members ahead of the room that do not have message `seq` yet get frames from it on. */
  #catchUp(seq: number): void {
    for (const [conn, has] of this.#ahead) {
      if (seq <= has) continue;
      this.#ahead.delete(conn);
      this.#frames.add(conn);
    }
  }

  /** A frame for every resumable member, those ahead of the room included. */
  #toResumable(frame: string): void {
    this.#frames.send(frame);
    for (const conn of this.#ahead.keys()) conn.send(frame);
  }

  /**
   * Replays the history to `conn` once (for a resuming client: only what it
   * missed), then admits it and announces the join.
   */
  addClient(conn: Connection): void {
    const resume = parseResume(conn.url);
    if (resume === undefined) {
      for (const entry of this.#history) conn.send(entry.text);
      this.#plain.add(conn);
    } else {
      this.#resumable.add(conn);
      this.#replay(conn, resume);
      if (!this.#ahead.has(conn)) this.#frames.add(conn);
    }
    this.clients.set(conn.id, conn);
    this.#announce(`User ${conn.id} joined the chat`, { join: conn.id });
  }

  /** Removes `conn` and announces the leave to the others. */
  removeClient(conn: Connection): void {
    this.#resumable.delete(conn);
    this.#ahead.delete(conn);
    this.#plain.delete(conn);
    this.#frames.delete(conn);
    if (!this.clients.delete(conn.id)) return;
    this.#announce(`User ${conn.id} left the chat`, { leave: conn.id });
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
    if (!this.#resumable.has(conn)) return raw;
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
    if (typeof raw !== "string" || !this.#resumable.has(conn)) return rule(raw);
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
    return conn.send(this.#resumable.has(conn) ? noticeFrame(text) : text);
  }

  /** Welcome, then a gap notice if the history starts too late, then every message after the resume point. */
  #replay(conn: Connection, resume: ResumePoint | "new"): void {
    this.#send(conn, { type: "welcome", id: conn.id, epoch: this.epoch, seq: this.#seq });
    // Another epoch means the room restarted: its numbers mean nothing here, so send everything.
    const known = resume !== "new" && resume.epoch === this.epoch;
    const after = known ? Math.min(resume.seq, this.#seq) : 0;
    if (known && resume.seq > this.#seq) this.#ahead.set(conn, resume.seq);
    const first = this.#history[0]?.seq ?? this.#seq + 1;
    if (known && first > after + 1) this.#send(conn, { type: "gap", from: after + 1, to: first - 1 });
    // Sequence numbers in the history are consecutive, so the start is an index.
    for (let i = Math.max(0, after + 1 - first); i < this.#history.length; i++) {
      const entry = this.#history[i]!;
      this.#send(conn, { type: "message", seq: entry.seq, data: entry.text });
    }
  }

  #sendPresence(): void {
    if (this.#resumable.size === 0) return;
    const online = this.#broker ? [...this.#online] : [...this.clients.keys()];
    this.#toResumable(encodeFrame({ type: "presence", online }));
  }

  #send(conn: Connection, frame: ServerFrame): void {
    conn.send(encodeFrame(frame));
  }
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
