/**
 * The resumable chat protocol, shared by `ChatRoom` (server side) and
 * `polysocket/client`. Plain WebSocket clients never see it: once a client and
 * server agree on it, every frame, both ways, is one JSON object with a `type`.
 *
 * - A client that can speak it says so with `?resume` (empty) on its first
 *   connection; a room answers with `welcome` as its very first frame, which is
 *   how the client learns the server speaks it. Until then the client sends
 *   plain text, which a room takes as a message too.
 * - Reconnection: `?resume=<epoch>.<seq>`, the room's epoch and the last
 *   sequence number the client delivered.
 * - Server to client: `welcome`, then `gap` (if the history no longer reaches
 *   back far enough), the replayed `message`s after `seq`, then live traffic;
 *   `notice` is text for this client alone, outside the numbered stream (a
 *   refused message's reason).
 * - Client to server: `message` (chat text) and `ping` (answered by `pong`).
 *
 * Rooms (`Rooms`, many per connection): the server's `welcome` carries only the
 * connection's id; the client then sends `join` per room (after a reconnect with
 * that room's resume point), answered by `joined`, a `gap` if need be, the
 * replayed `message`s and `presence`, all naming the room. `publish` sends a
 * message to a room, `leave` leaves it; `left` tells the client it is out
 * (it left, or the join was refused, with the reason). A `publish` with a
 * `ref` is answered `ack` (with the message's `seq`, once stored) or `nack`
 * (with the reason it was not).
 */
import type { JsonValue as Json } from "./types.ts";

/** The query parameter that selects the resumable protocol and carries a client's resume point. */
export const RESUME_PARAM = "resume";

/** Where a client stands in a room's message stream. */
export interface ResumePoint {
  /** Random id of the room instance that numbered the messages; a new one means a restart. */
  readonly epoch: string;
  /** Last sequence number the client delivered (0 for none). */
  readonly seq: number;
}

/**
 * Frames the server sends in the resumable protocol. Frames about one room of
 * a `Rooms` server name it in `room`; a `ChatRoom`'s frames have no
 * `room` (the connection is in that one room, resumed through the URL).
 */
export type ServerFrame =
  | { readonly type: "welcome"; readonly id: string; readonly epoch?: string; readonly seq?: number }
  | { readonly type: "joined"; readonly room: string; readonly epoch: string; readonly seq: number }
  | { readonly type: "left"; readonly room: string; readonly reason?: string }
  | {
      readonly type: "message";
      readonly room?: string;
      readonly seq: number;
      /** Text, a JSON value, or (with `binary`) bytes in base64. */
      readonly data: Json;
      readonly binary?: true;
    }
  | { readonly type: "gap"; readonly room?: string; readonly from: number; readonly to: number }
  /**
   * Who is in the room: a `ChatRoom` sends the whole list (`online`, each
   * member's presence value) on every change; a `Rooms` server sends the whole
   * list (`members`, with ids) once when a member joins, then each change alone
   * (`joined`, or `left` with the id).
   */
  | {
      readonly type: "presence";
      readonly room?: string;
      readonly online?: readonly Json[];
      readonly members?: readonly PresenceMember[];
      readonly joined?: PresenceMember;
      readonly left?: string;
    }
  | { readonly type: "notice"; readonly room?: string; readonly text: string }
  /** The publish with this `ref` is stored as message `seq`. */
  | { readonly type: "ack"; readonly room: string; readonly ref: Ref; readonly seq: number }
  /** The publish with this `ref` was not stored, and why. */
  /** The publish with this `ref` was not stored, and why; with `retry`, sending it again may succeed. */
  | {
      readonly type: "nack";
      readonly room: string;
      readonly ref: Ref;
      readonly reason: string;
      readonly retry?: true;
    }
  /** The answer to the client's `request` with this `id`: its `data`, or the `error` the handler threw. */
  | { readonly type: "response"; readonly id: Ref; readonly data?: Json; readonly error?: string }
  | { readonly type: "pong" };

/** A member as presence frames name it: its connection id and its presence value. */
export interface PresenceMember {
  /** The member's connection id. */
  readonly id: string;
  /** What the server's application says identifies it (its `presence` value). */
  readonly info: Json;
}

/** A client's name for one of its publishes, echoed in `ack`/`nack`: a number or a short string. */
export type Ref = number | string;

/** Frames the client sends in the resumable protocol. */
export type ClientFrame =
  /** A `ChatRoom` message (text). */
  | { readonly type: "message"; readonly data: string }
  /** Enter `room`; after a reconnect, from the resume point `epoch`.`seq`. */
  | { readonly type: "join"; readonly room: string; readonly epoch?: string; readonly seq?: number }
  | { readonly type: "leave"; readonly room: string }
  /**
   * A message for `room`: text, a JSON value, or (with `binary`) bytes in
   * base64. With `ref`, the server answers `ack` (stored) or `nack` (not).
   * With `session` too (exactly once), `ref` is the message's number in that
   * session for this room (1, 2, 3…): a repeat is acknowledged, not stored again.
   */
  | {
      readonly type: "publish";
      readonly room: string;
      readonly data: Json;
      readonly binary?: true;
      readonly ref?: Ref;
      readonly session?: string;
    }
  /** A call of the server's `respond` handler; answered by a `response` with the same `id`. */
  | { readonly type: "request"; readonly id: Ref; readonly data: Json }
  | { readonly type: "ping" };

/** One frame as the text that goes on the wire. */
export function encodeFrame(frame: ServerFrame | ClientFrame): string {
  return JSON.stringify(frame);
}

/**
 * What an upgrade URL asks for: `undefined` for a plain client, `"new"` for a
 * first resumable connection, or the point to resume from.
 */
export function parseResume(url: string): ResumePoint | "new" | undefined {
  const value = new URL(url, "http://localhost").searchParams.get(RESUME_PARAM);
  if (value === null) return undefined;
  const match = /^([A-Za-z0-9_-]+)\.(\d{1,15})$/.exec(value);
  return match ? { epoch: match[1]!, seq: Number(match[2]) } : "new";
}

/** `url` with the resume parameter set for `point` (or for a first connection). */
export function withResume(url: string, point: ResumePoint | undefined): string {
  const target = new URL(url);
  target.searchParams.set(RESUME_PARAM, point ? `${point.epoch}.${point.seq}` : "");
  return target.href;
}

/** Parses a client frame; `undefined` for anything malformed. */
export function decodeClientFrame(text: string): ClientFrame | undefined {
  const frame = parseObject(text);
  switch (frame?.type) {
    case "ping":
      return { type: "ping" };
    case "message":
      return typeof frame.data === "string" ? { type: "message", data: frame.data } : undefined;
    case "join":
      return decodeJoin(frame);
    case "leave":
      return isRoom(frame.room) ? { type: "leave", room: frame.room } : undefined;
    case "publish":
      return decodePublish(frame);
    case "request":
      return isRef(frame.id) && "data" in frame
        ? { type: "request", id: frame.id, data: frame.data as Json }
        : undefined;
    default:
      return undefined;
  }
}

function decodeJoin(frame: Record<string, unknown>): ClientFrame | undefined {
  if (!isRoom(frame.room)) return undefined;
  if (frame.epoch === undefined && frame.seq === undefined) return { type: "join", room: frame.room };
  if (!isText(frame.epoch) || !isSeq(frame.seq)) return undefined;
  return { type: "join", room: frame.room, epoch: frame.epoch, seq: frame.seq };
}

function decodePublish(frame: Record<string, unknown>): ClientFrame | undefined {
  if (!isRoom(frame.room) || !("data" in frame)) return undefined;
  if (frame.ref !== undefined && !isRef(frame.ref)) return undefined;
  if (frame.session !== undefined && !(isSession(frame.session) && isCount(frame.ref))) return undefined;
  const ref = {
    ...(frame.ref === undefined ? {} : { ref: frame.ref }),
    ...(frame.session === undefined ? {} : { session: frame.session }),
  };
  if (frame.binary === undefined)
    return { type: "publish", room: frame.room, data: frame.data as Json, ...ref };
  if (frame.binary !== true || typeof frame.data !== "string") return undefined;
  return { type: "publish", room: frame.room, data: frame.data, binary: true, ...ref };
}

/** A client session's id: 1 to 64 URL-safe characters. */
export function isSession(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(value);
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1;

/** A `ref`: a safe integer or a string of at most 64 characters. */
export function isRef(value: unknown): value is Ref {
  return Number.isSafeInteger(value) || (typeof value === "string" && value.length <= 64);
}

/**
 * What a resumable member's text means: a frame, or plain text when it is not
 * a frame at all (sent before the room's `welcome` reached a client in "auto"
 * mode); `undefined` for a malformed frame (an object with a `type`).
 */
export function decodeClientText(text: string): ClientFrame | undefined {
  const frame = decodeClientFrame(text);
  if (frame !== undefined) return frame;
  return parseObject(text)?.type === undefined ? { type: "message", data: text } : undefined;
}

/** Parses a server frame; `undefined` for anything malformed. */
export function decodeServerFrame(text: string): ServerFrame | undefined {
  const frame = parseObject(text);
  if (frame === undefined || !optionalRoom(frame.room)) return undefined;
  switch (frame.type) {
    case "welcome":
      return isText(frame.id) && (frame.epoch === undefined || (isText(frame.epoch) && isSeq(frame.seq)))
        ? (frame as ServerFrame)
        : undefined;
    case "joined":
      return isRoom(frame.room) && isText(frame.epoch) && isSeq(frame.seq)
        ? (frame as ServerFrame)
        : undefined;
    case "left":
      return isRoom(frame.room) && (frame.reason === undefined || typeof frame.reason === "string")
        ? (frame as ServerFrame)
        : undefined;
    case "message":
      return isSeq(frame.seq) &&
        "data" in frame &&
        (frame.binary === undefined || typeof frame.data === "string")
        ? (frame as ServerFrame)
        : undefined;
    case "gap":
      return isSeq(frame.from) && isSeq(frame.to) ? (frame as ServerFrame) : undefined;
    case "presence":
      return isPresence(frame) ? (frame as ServerFrame) : undefined;
    case "notice":
      return typeof frame.text === "string" ? (frame as ServerFrame) : undefined;
    case "ack":
      return isRoom(frame.room) && isRef(frame.ref) && isSeq(frame.seq) ? (frame as ServerFrame) : undefined;
    case "nack":
      return isRoom(frame.room) &&
        isRef(frame.ref) &&
        typeof frame.reason === "string" &&
        (frame.retry === undefined || frame.retry === true)
        ? (frame as ServerFrame)
        : undefined;
    case "response":
      return isRef(frame.id) && (frame.error === undefined || typeof frame.error === "string")
        ? (frame as ServerFrame)
        : undefined;
    case "pong":
      return { type: "pong" };
    default:
      return undefined;
  }
}

/** One of a presence frame's forms: the whole list (either kind) or one change. */
function isPresence(frame: Record<string, unknown>): boolean {
  if (Array.isArray(frame.online)) return true;
  if (Array.isArray(frame.members)) return frame.members.every(isMember);
  return isMember(frame.joined) || isText(frame.left);
}

const isMember = (value: unknown): value is PresenceMember =>
  typeof value === "object" && value !== null && isText((value as PresenceMember).id) && "info" in value;

/** Longest room name, in UTF-16 units. */
export const MAX_ROOM_NAME = 200;

// Control characters garble logs and keys; a room name is for people and URLs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const NAME_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `value` is a usable room name: 1 to {@link MAX_ROOM_NAME} characters, no control characters. */
export function isRoom(value: unknown): value is string {
  return (
    typeof value === "string" && value !== "" && value.length <= MAX_ROOM_NAME && !NAME_CONTROL.test(value)
  );
}

const optionalRoom = (value: unknown): boolean => value === undefined || isRoom(value);

/** Bytes as the base64 text a frame carries (`btoa`: every runtime and browser has it). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes a frame's base64 text stands for; `undefined` if it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isText = (value: unknown): value is string => typeof value === "string" && value !== "";
const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
