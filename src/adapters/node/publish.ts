/**
 * Node's broadcast fast path. `ws` frames and writes every `send` separately, so
 * a loop over N clients frames the message N times and makes N small writes per
 * message. Server frames are unmasked, so one framed buffer serves every client:
 * frame once, write the same bytes to each socket, and cork each socket until the
 * end of the tick so the messages of one tick leave in one write per socket.
 *
 * The bytes go to the socket `ws` itself writes to, in call order, so they never
 * interleave with an ordinary `send` and `ws`'s `bufferedAmount` (the socket's
 * writable length) counts them. A socket whose `ws` sender is busy (queued
 * frames) or whose internals look unfamiliar gets a plain `send` instead.
 */
import { setImmediate } from "node:timers";
import type { WebSocket } from "ws";
import * as wsModule from "ws";

/** The parts of `ws`'s exported `Sender` used here (public, but not in @types/ws). */
interface SenderStatic {
  frame(data: Buffer, options: FrameOptions): Buffer[];
}

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

/** The socket and sender state of a `ws` WebSocket (private fields of ws 8). */
interface WsInternals {
  _socket?: Writable;
  _sender?: { _state: number; _queue: unknown[] };
}

interface Writable {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
}

const { Sender } = wsModule as unknown as { Sender: SenderStatic };
const OPEN = 1;
const TEXT = 0x1;
const BINARY = 0x2;
/** Up to this payload size, header and payload are joined into one buffer (one write per client). */
const JOIN_BELOW = 16 * 1024;

/** Sockets corked during this tick; uncorked together when it ends. */
const corked = new Set<Writable>();

/**
 * Sends one message to every open socket in `sockets` but `except`.
 * Frames it once, then writes the same bytes to each.
 */
export function publish(sockets: Iterable<WebSocket>, data: string | Uint8Array, except?: unknown): void {
  const frame = frameOnce(data);
  for (const ws of sockets) {
    if (ws === except || ws.readyState !== OPEN) continue;
    const socket = idleSocket(ws);
    if (socket) writeCorked(socket, frame);
    else ws.send(data);
  }
}

/** The message as one unmasked frame: header and payload, joined when small. */
function frameOnce(data: string | Uint8Array): Buffer[] {
  const binary = typeof data !== "string";
  const payload = binary ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
  const options = { fin: true, opcode: binary ? BINARY : TEXT, mask: false, readOnly: true, rsv1: false };
  const frame = Sender.frame(payload, options);
  return payload.length < JOIN_BELOW ? [Buffer.concat(frame)] : frame;
}

/** The socket to write to, if `ws`'s own sender has nothing queued ahead of us. */
function idleSocket(ws: WebSocket): Writable | undefined {
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  if (!socket || !sender || sender._state !== 0 || sender._queue.length > 0) return undefined;
  return socket;
}

function writeCorked(socket: Writable, frame: Buffer[]): void {
  if (!corked.has(socket)) {
    if (corked.size === 0) setImmediate(uncorkAll);
    socket.cork();
    corked.add(socket);
  }
  for (const chunk of frame) socket.write(chunk);
}

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
}
