/**
 * How a room's message looks to each kind of member: plain WebSocket clients
 * get the payload itself; resumable ones a frame (see resume-protocol.ts),
 * without `room` for a `ChatRoom`'s members, with it for a `Rooms` member.
 */
import { encodeFrame, type ServerFrame, toBase64 } from "../resume-protocol.ts";
import type { RoomData } from "./store.ts";

/**
 * - `plain`: a client that does not speak the protocol (the seed's).
 * - `bare`: a `ChatRoom`'s resumable member: frames without `room`.
 * - `named`: a `Rooms` member: frames naming the room.
 */
export type MemberKind = "plain" | "bare" | "named";

/** The payload as a plain client receives it: text, bytes, or a value's JSON text. */
export function plainPayload(data: RoomData): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  return JSON.stringify(data);
}

/** The `message` frame of entry `seq`, for `room` (`undefined`: a bare frame). */
export function messageFrame(room: string | undefined, seq: number, data: RoomData): string {
  const frame: ServerFrame =
    data instanceof Uint8Array
      ? { type: "message", room, seq, data: toBase64(data), binary: true }
      : { type: "message", room, seq, data };
  return encodeFrame(frame);
}

/** A frame about `room` (its name added for named members). */
export function roomFrame(room: string | undefined, frame: ServerFrame): string {
  return encodeFrame(room === undefined ? frame : ({ ...frame, room } as ServerFrame));
}

/** Deepest nesting of arrays and objects a room takes: deeper values cannot be re-encoded on every runtime. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `value` nests at most {@link MAX_JSON_DEPTH} levels (walked without
 * recursion). A value parsed from a frame can be far deeper than
 * `JSON.stringify` can write back on Node and Bun (stack overflow).
 */
export function shallowEnough(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null || item instanceof Uint8Array) continue;
    if (depth >= MAX_JSON_DEPTH) return false;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}
