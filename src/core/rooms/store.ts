/**
 * The seam between rooms and where their messages live. One store serves
 * every room of a process: the in-memory one (the default, one process) or a
 * shared one (e.g. `polysocket/redis`), through which every process serving a
 * room sees one stream, in one order, with one set of sequence numbers.
 *
 * Runtime-neutral: a store implementation needs only these types (and the
 * contract's `JsonValue`, from the leaf types.ts).
 */

import type { JsonValue } from "../types.ts";

export type { JsonValue };

/**
 * One message's payload: a string is text, a `Uint8Array` is bytes, anything
 * else a JSON-serialisable value. Plain WebSocket members receive text as a
 * text frame, bytes as a binary frame and a value as its JSON text.
 */
export type RoomData = JsonValue | Uint8Array;

/** One numbered message of a room's stream. */
export interface RoomEntry {
  /** Its sequence number in the room: 1, 2, 3… (consecutive unless the store trimmed some). */
  readonly seq: number;
  /** The payload, as published. */
  readonly data: RoomData;
  /** When it was stored, in ms since the epoch (the store's clock): for age-bounded histories. */
  readonly time: number;
}

/** Someone in a room: a connection, and what the application says identifies it. */
export interface Member {
  /** The connection id (unique across processes). */
  readonly id: string;
  /** What presence shows for it (the application's choice, e.g. a nickname; default the id). */
  readonly info: JsonValue;
}

/** A change of who is in a room, stored with (or without) a message. */
export interface PresenceChange {
  /** The member that joined. */
  readonly join?: Member;
  /** The member (connection id) that left. */
  readonly leave?: string;
}

/**
 * Who sent a message, for exactly-once delivery from clients: the sender's
 * session (random, one per client) and the message's number in that session
 * for this room, 1, 2, 3… in the order sent.
 */
export interface Origin {
  /** The client's session id (1 to 64 URL-safe characters). */
  readonly session: string;
  /** The message's number in that session for this room: 1, 2, 3… */
  readonly n: number;
}

/** The `code` of the error an `append` with an {@link Origin} rejects with when `n` skips numbers. */
export const OUT_OF_ORDER = "POLYSOCKET_OUT_OF_ORDER";

/** How long a store remembers a session after its last message, at least, in ms (a day). */
export const SESSION_TTL: number = 24 * 60 * 60 * 1000;

/** How many of a session's latest numbers a store remembers the sequence numbers of, at least. */
export const SESSION_WINDOW: number = 1024;

/** How much of a room's stream a store keeps. */
export interface RetentionLimits {
  /** Messages kept for newcomers and resuming members; the oldest go first. */
  readonly historyLimit: number;
  /** Messages older than this (ms) are not replayed; `undefined` for no age limit. */
  readonly maxAge: number | undefined;
}

/** A room as the store had it when it was opened in this process. */
export interface RoomSnapshot {
  /** Id of the room's numbering, the same in every process; a new one means the numbers started over. */
  readonly epoch: string;
  /** The latest messages, oldest first, within the retention limits. */
  readonly history: readonly RoomEntry[];
  /** Sequence number of the latest message (0 before the first). */
  readonly lastSeq: number;
  /** Members online in every process, as of {@link lastSeq}. */
  readonly online: readonly Member[];
}

/** What a store tells one open room. */
export interface RoomListener {
  /** The next message of the stream: once each, in order, this process's own included. */
  message(entry: RoomEntry): void;
  /** Who is in the room changed (in any process), as of the last message handed over. */
  presence(change: PresenceChange): void;
  /** Members whose process vanished without saying goodbye: the room announces their leaves. */
  orphaned(members: readonly Member[]): void;
  /**
   * The store lost the room (e.g. Redis came back empty): numbering starts over
   * at 1 under a new `epoch`, and nobody is online there any more.
   */
  restarted(epoch: string): void;
  /**
   * This process was taken for dead (it was silent longer than the store
   * allows, e.g. paused) and its members were announced gone: the room announces them again.
   */
  revived(): void;
}

/**
 * Where the rooms of a process keep their messages and presence. `open` a room
 * when it gets its first member here, `release` it when its last one leaves
 * (the store keeps its history, within the limits); `close` the store last.
 */
export interface RoomStore {
  /**
   * Starts serving `room` in this process: resolves with its state, then tells
   * `listener` every message after the snapshot's `lastSeq`, in order.
   */
  open(room: string, limits: RetentionLimits, listener: RoomListener): Promise<RoomSnapshot>;
  /**
   * Stores `data` as the room's next message (with `change`, atomically: a
   * join or leave notice) and resolves with its sequence number; rejects if it
   * was not stored. Bytes are taken before it returns (the caller may reuse
   * its buffer). Without `data`, only `change` is applied (resolves 0). A
   * leave of a member that is not online (announced already) stores nothing and resolves with 0.
   *
   * With `origin` (a client's message, exactly once), atomically with the rest:
   * - `origin.n` at or below the last number stored for that session in this
   *   room: a repeat; nothing is stored, and it resolves with the sequence
   *   number the message got (0 if it was skipped, or is older than the last
   *   {@link SESSION_WINDOW} numbers);
   * - the next number: stored (without `data`: only recorded as handled, a
   *   message the server refused), resolving as without `origin`;
   * - a number further on: rejects with an error whose `code` is
   *   {@link OUT_OF_ORDER} and whose `expected` is the number due (the
   *   client resends from there). Sessions are remembered {@link SESSION_TTL} after their last message.
   */
  append(room: string, data: RoomData | undefined, change?: PresenceChange, origin?: Origin): Promise<number>;
  /** Stops serving `room` in this process (no more listener calls for it). */
  release(room: string): Promise<void>;
  /** Releases every room and what the store holds (connections, timers). */
  close(): Promise<void>;
}
