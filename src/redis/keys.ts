/**
 * Where a room lives in Redis. Every key of one room shares one hash tag,
 * `{…}`, so that Redis Cluster keeps them in one slot (a script may touch only
 * keys of one slot); the room's name is escaped inside the tag so that braces
 * in a name cannot end it early (or leave it empty, which would hash each key apart).
 */

/** One room's keys, and the channel its changes are published on. */
export interface RoomKeys {
  /** String: the id of the room's numbering (changes when Redis lost the room). */
  readonly epoch: string;
  /** Stream: the messages, ids `0-1`, `0-2`… (the second half is the seq). */
  readonly stream: string;
  /** Hash: member id → `[process, info]` (JSON) of everyone online, in every process. */
  readonly members: string;
  /** String: counts the room's presence changes, so a reader notices one it missed. */
  readonly presence: string;
  /** Pub/Sub channel: every stored message and presence change, as it is stored. */
  readonly channel: string;
  /**
   * Prefix of the hashes of clients' sessions (`…:session:{id}`: the last number
   * handled and the seqs of the latest), for exactly-once publishing; each expires a while after its last message.
   */
  readonly session: string;
}

/**
 * The room's name as it appears inside the hash tag: `%`, `{` and `}` escaped
 * as `%25`, `%7B`, `%7D`; the empty name is `%` (no escape produces it), so the
 * tag is never empty.
 */
export function roomTag(room: string): string {
  if (room === "") return "%";
  return room.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The keys of `room` under `prefix`, e.g. `polysocket:{lobby}:stream`. */
export function roomKeys(prefix: string, room: string): RoomKeys {
  const base = `${prefix}:{${roomTag(room)}}`;
  return {
    epoch: `${base}:epoch`,
    stream: `${base}:stream`,
    members: `${base}:members`,
    presence: `${base}:presence`,
    channel: `${base}:events`,
    session: `${base}:session:`,
  };
}

/** The sorted set of live processes (process id → deadline, Redis's clock in ms), one for every room. */
export function processesKey(prefix: string): string {
  return `${prefix}:processes`;
}

/** Throws `TypeError` for a prefix that would break the rooms' hash tags (a brace in it). */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== "string" || prefix === "" || /[{}]/.test(prefix)) {
    throw new TypeError(
      `options.prefix must be a non-empty string without braces, got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix;
}
