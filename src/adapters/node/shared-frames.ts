/**
 * Node's send path, in the wire and the transport the adapter hands the core.
 * `ws` frames and writes every `send` on its own, so a message to N clients
 * would be framed N times and leave in N small writes. Server frames are
 * unmasked, so one framed buffer serves every client: {@link nodeWire} frames
 * each message once (the core prepares a group message once for all its
 * members), copying the caller's bytes into the frame, so a buffer reused after
 * `send` or `publish` returned never changes what anyone receives. Sockets stay
 * corked until the event loop's check phase, so the sends of one loop iteration
 * leave in one write per socket.
 *
 * Group messages still reach each member through the core's per-connection
 * rules (state, backpressure). The bytes go to the socket `ws` itself writes
 * to, in call order, so they never interleave with other frames, and
 * `bufferedAmount` (the socket's writable length) counts them. Anything else —
 * a sender with frames queued (compression), unfamiliar internals — takes
 * `ws`'s own path with the frame's payload.
 *
 * The transport wraps the `ws` socket rather than subclassing `ws`'s class: with a
 * subclass as `WebSocketServer`'s `WebSocket` option, V8 kept abandoning the
 * optimized code of the constructor and of `ws`'s `completeUpgrade` ("dependency
 * change", over and over under a connection storm) and ran them unoptimized.
 */
import { setImmediate } from "node:timers";
import type { WebSocket } from "ws";
import * as wsModule from "ws";
import type { Transport, Wire } from "../../core/adapter.ts";

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

/** One message framed for every socket: the frame's buffers, and its payload for `ws`'s own path. */
export interface NodeFrame {
  readonly chunks: Buffer[];
  readonly payload: Buffer;
  readonly binary: boolean;
}

/** Frames each message once, for any number of sockets. */
export const nodeWire: Wire = { prepare: frameOnce };
/** Sockets corked during this loop iteration; uncorked together in the check phase. */
const corked: Writable[] = [];
/** Marks a socket as in `corked` (cheaper than a Set lookup per message and client). */
const CORKED = Symbol("polysocket.corked");

/** A `ws` socket as the core's transport; `send` writes a frame built once by {@link nodeWire}. */
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

  send(message: unknown): void {
    const frame = message as NodeFrame;
    const socket = idleSocket(this.ws);
    if (socket === undefined) this.ws.send(frame.payload, { binary: frame.binary });
    else writeCorked(socket, frame.chunks);
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

/**
 * Whether this `ws` exposes what the fast path reads (its socket and sender
 * state); a `ws` release that moves them makes every send take `ws`'s own
 * path, slower but correct. Tested, so that such a release cannot go unnoticed.
 */
export function sharesFrames(ws: WebSocket): boolean {
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  return (
    typeof socket?.cork === "function" && typeof sender?._state === "number" && Array.isArray(sender._queue)
  );
}

/** The socket to write to, if the WebSocket is open and `ws`'s sender has nothing queued. */
function idleSocket(ws: WebSocket): Writable | undefined {
  if (ws.readyState !== OPEN) return undefined;
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  if (!socket || !sender || sender._state !== 0 || sender._queue.length > 0) return undefined;
  return socket;
}

/**
 * The message as one unmasked frame over a payload of its own (text encoded,
 * bytes copied: the caller may reuse its buffer at once): header and payload
 * joined into one buffer when small (one write instead of a writev of two).
 */
function frameOnce(data: string | Uint8Array): NodeFrame {
  const binary = typeof data !== "string";
  // Buffer.from copies a Uint8Array and encodes a string: either way the payload is ours.
  const payload = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  const options = { fin: true, opcode: binary ? BINARY : TEXT, mask: false, readOnly: true, rsv1: false };
  const frame = Sender.frame(payload, options);
  const chunks = payload.length < JOIN_BELOW ? [Buffer.concat(frame)] : frame;
  return { chunks, payload, binary };
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
}
