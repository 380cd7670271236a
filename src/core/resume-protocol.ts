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
 */

/** The query parameter that selects the resumable protocol and carries a client's resume point. */
export const RESUME_PARAM = "resume";

/** Where a client stands in a room's message stream. */
export interface ResumePoint {
  /** Random id of the room instance that numbered the messages; a new one means a restart. */
  readonly epoch: string;
  /** Last sequence number the client delivered (0 for none). */
  readonly seq: number;
}

/** Frames the server sends in the resumable protocol. */
export type ServerFrame =
  | { readonly type: "welcome"; readonly id: string; readonly epoch: string; readonly seq: number }
  | { readonly type: "message"; readonly seq: number; readonly data: string }
  | { readonly type: "gap"; readonly from: number; readonly to: number }
  | { readonly type: "presence"; readonly online: readonly string[] }
  | { readonly type: "notice"; readonly text: string }
  | { readonly type: "pong" };

/** Frames the client sends in the resumable protocol. */
export type ClientFrame = { readonly type: "message"; readonly data: string } | { readonly type: "ping" };

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
  if (frame?.type === "ping") return { type: "ping" };
  if (frame?.type === "message" && typeof frame.data === "string")
    return { type: "message", data: frame.data };
  return undefined;
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
  switch (frame?.type) {
    case "welcome":
      return isText(frame.id) && isText(frame.epoch) && isSeq(frame.seq) ? (frame as ServerFrame) : undefined;
    case "message":
      return isSeq(frame.seq) && typeof frame.data === "string" ? (frame as ServerFrame) : undefined;
    case "gap":
      return isSeq(frame.from) && isSeq(frame.to) ? (frame as ServerFrame) : undefined;
    case "presence":
      return Array.isArray(frame.online) ? (frame as ServerFrame) : undefined;
    case "notice":
      return typeof frame.text === "string" ? { type: "notice", text: frame.text } : undefined;
    case "pong":
      return { type: "pong" };
    default:
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
