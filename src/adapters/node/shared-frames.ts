/**
 * Node's send fast path, in the transport the adapter hands the core for each
 * `ws` socket. `ws` frames and writes every `send` on its own, so a broadcast to N
 * clients frames the message N times and makes N small writes. Server frames are
 * unmasked, so one framed buffer serves every client: each plain send is framed
 * here once (header and a small payload joined, so it leaves in one write, not a
 * writev of two); a socket sent the very message the previous `send` (to any
 * socket) carried — which is what a broadcast does — gets the frame already
 * built. Sockets stay corked until the event loop's check phase, so the sends of
 * one loop iteration leave in one write per socket.
 *
 * Broadcasts still go through `Connection.send`, one connection at a time, so
 * every per-connection rule of the core (state, backpressure) applies to them.
 * The bytes go to the socket `ws` itself writes to, in call order, so they never
 * interleave with other frames, and `bufferedAmount` (the socket's writable
 * length) counts them. Anything else — a sender with frames queued
 * (compression), unfamiliar internals — takes `ws`'s own path.
 *
 * The transport wraps the `ws` socket rather than subclassing `ws`'s class: with a
 * subclass as `WebSocketServer`'s `WebSocket` option, V8 kept abandoning the
 * optimized code of the constructor and of `ws`'s `completeUpgrade` ("dependency
 * change", over and over under a connection storm) and ran them unoptimized.
 */
import { setImmediate } from "node:timers";
import type { WebSocket } from "ws";
import * as wsModule from "ws";
import type { Transport } from "../../core/adapter.ts";

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
  [CORKED]?: boolean;
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
}

const { Sender } = wsModule as unknown as { Sender: SenderStatic };
const OPEN = 1;
const TEXT = 0x1;
const BINARY = 0x2;
/** Frames up to this size are joined into one buffer: one write per client. */
const JOIN_BELOW = 16 * 1024;

/** The message of the previous send and its frame; forgotten at the end of the loop iteration. */
let last: { data: string | Uint8Array; frame: Buffer[] } | undefined;
/** Sockets corked during this loop iteration; uncorked together in the check phase. */
const corked: Writable[] = [];
/** Marks a socket as in `corked` (cheaper than a Set lookup per message and client). */
const CORKED = Symbol("polysocket.corked");

/** A `ws` socket as the core's transport; `send` frames each message once for every socket. */
export class SharedFrameTransport implements Transport {
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: string | Uint8Array): void {
    const socket = idleSocket(this.ws);
    if (socket === undefined) {
      this.ws.send(data);
      return;
    }
    if (last === undefined || !isLast(last, data)) last = { data, frame: frameOnce(data) };
    writeCorked(socket, last.frame);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    this.ws.ping();
  }
}

/** Strings are compared by value (immutable); bytes by identity, never copied (as `ws` does). */
function isLast(previous: { data: string | Uint8Array }, data: string | Uint8Array): boolean {
  return previous.data === data;
}

/** The socket to write to, if the WebSocket is open and `ws`'s sender has nothing queued. */
function idleSocket(ws: WebSocket): Writable | undefined {
  if (ws.readyState !== OPEN) return undefined;
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  if (!socket || !sender || sender._state !== 0 || sender._queue.length > 0) return undefined;
  return socket;
}

/**
 * The message as one unmasked frame: header and payload, joined into one buffer
 * when small (one write instead of a writev of two; the copy costs less).
 */
function frameOnce(data: string | Uint8Array): Buffer[] {
  const binary = typeof data !== "string";
  const payload = binary ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
  const options = { fin: true, opcode: binary ? BINARY : TEXT, mask: false, readOnly: true, rsv1: false };
  const frame = Sender.frame(payload, options);
  return payload.length < JOIN_BELOW ? [Buffer.concat(frame)] : frame;
}

function writeCorked(socket: Writable, frame: Buffer[]): void {
  if (socket[CORKED] !== true) {
    scheduleFlush();
    socket.cork();
    socket[CORKED] = true;
    corked.push(socket);
  }
  for (const chunk of frame) socket.write(chunk);
}

let flushScheduled = false;

/** Once per loop iteration at most: uncork in the check phase. */
function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) {
    socket[CORKED] = false;
    socket.uncork();
  }
  corked.length = 0;
  last = undefined;
}
