/**
 * How a room's messages and presence changes are written in Redis (stream
 * fields and Pub/Sub payloads) and read back. Payloads are stored as bytes with
 * their kind, so text, JSON values and binary all round trip exactly.
 */
import { Buffer } from "node:buffer";
import type { JsonValue, Member, RoomData } from "../core/rooms/store.ts";

/** A payload's kind: `s` text, `j` a JSON value, `b` bytes; `""` none (a presence-only change). */
export type Kind = "s" | "j" | "b" | "";

/** A member as stored: who, and the process serving it (for dead-process detection). */
export interface StoredMember extends Member {
  readonly process: string;
}

/** One change of a room as stored: a message (`seq > 0`), a presence change (`version > 0`), or both. */
export interface StoreEvent {
  readonly epoch: string;
  /** The message's seq; 0 for a presence-only change. */
  readonly seq: number;
  /** When Redis stored it (ms, Redis's clock). */
  readonly time: number;
  readonly data: RoomData | undefined;
  /** The room's presence version after this change; 0 when it changes nobody. */
  readonly version: number;
  readonly join: StoredMember | undefined;
  readonly leave: string | undefined;
}

/** A payload in the form the scripts take: its kind and its bytes (or text). */
export function encodeData(data: RoomData | undefined): { kind: Kind; bytes: string | Buffer } {
  if (data === undefined) return { kind: "", bytes: "" };
  if (typeof data === "string") return { kind: "s", bytes: data };
  if (data instanceof Uint8Array)
    return { kind: "b", bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  const json = JSON.stringify(data);
  if (json === undefined) throw new TypeError("room data must be text, bytes or a JSON-serialisable value");
  return { kind: "j", bytes: json };
}

/** The payload back from its kind and bytes. */
export function decodeData(kind: string, bytes: Buffer): RoomData | undefined {
  switch (kind) {
    case "s":
      return bytes.toString("utf8");
    case "j":
      return JSON.parse(bytes.toString("utf8")) as JsonValue;
    case "b":
      return new Uint8Array(bytes); // a copy: the caller owns it, whatever ioredis does with its buffer
    default:
      return undefined;
  }
}

/** A join as the scripts store it in the stream and publish it: `[id, process, info]` in JSON. */
export function encodeJoin(member: Member, process: string): string {
  return JSON.stringify([member.id, process, member.info]);
}

/** The members hash's value for a member: `[process, info]` in JSON. */
export function encodeMemberValue(member: Member, process: string): string {
  return JSON.stringify([process, member.info]);
}

function decodeJoin(text: string): StoredMember | undefined {
  if (text === "") return undefined;
  const [id, process, info] = JSON.parse(text) as [string, string, JsonValue];
  return { id, process, info };
}

/** The members hash (HGETALL's flat reply) as members. */
export function decodeMembers(flat: readonly Buffer[]): StoredMember[] {
  const members: StoredMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [process, info] = JSON.parse(flat[i + 1]!.toString("utf8")) as [string, JsonValue];
    members.push({ id: flat[i]!.toString("utf8"), process, info });
  }
  return members;
}

/** Header lines of a published change, before its payload: epoch, seq, time, kind, version, join, leave. */
const HEADER_LINES = 7;
const NEWLINE = 10;

/** A published change (`epoch\nseq\ntime\nkind\nversion\njoin\nleave\n` then the payload's bytes). */
export function decodeMessage(message: Buffer): StoreEvent {
  const lines: string[] = [];
  let start = 0;
  for (let n = 0; n < HEADER_LINES; n++) {
    const end = message.indexOf(NEWLINE, start);
    if (end < 0) throw new Error("malformed room change on the channel");
    lines.push(message.toString("utf8", start, end));
    start = end + 1;
  }
  const [epoch, seq, time, kind, version, join, leave] = lines as [
    string,
    string,
    string,
    Kind,
    string,
    string,
    string,
  ];
  return {
    epoch,
    seq: Number(seq),
    time: Number(time),
    data: decodeData(kind, message.subarray(start)),
    version: Number(version),
    join: decodeJoin(join),
    leave: leave === "" ? undefined : (JSON.parse(leave) as string),
  };
}

/** A stream entry as Redis returns it (with buffers): its id and flat field list. */
export type RawEntry = [id: Buffer, fields: Buffer[]];

/** A stream entry (fields e, t, k, d, v, j, l: see the append script) as a change. */
export function decodeEntry([id, fields]: RawEntry): StoreEvent {
  const field: Record<string, Buffer> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) field[fields[i]!.toString("latin1")] = fields[i + 1]!;
  const text = (name: string) => field[name]?.toString("utf8") ?? "";
  const leave = text("l");
  return {
    epoch: text("e"),
    seq: seqOf(id.toString("latin1")),
    time: Number(text("t")),
    data: decodeData(text("k"), field.d ?? Buffer.alloc(0)),
    version: Number(text("v") || 0),
    join: decodeJoin(text("j")),
    leave: leave === "" ? undefined : (JSON.parse(leave) as string),
  };
}

/** `0-42` → 42: a room's entries all have 0 as their first half. */
export function seqOf(id: string): number {
  const seq = Number(id.slice(id.indexOf("-") + 1));
  if (!id.startsWith("0-") || !Number.isSafeInteger(seq)) throw new Error(`unexpected stream id ${id}`);
  return seq;
}
