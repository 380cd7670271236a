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
 * With compression, a socket that negotiated permessage-deflate without server
 * context takeover (and the full window) gets the message deflated once for all
 * such sockets: raw DEFLATE up to a sync flush, its `00 00 ff ff` tail cut, in a
 * frame with RSV1 set (RFC 7692 §7.2.1), made on first need. A socket that keeps
 * context, or asked for a smaller window, takes `ws`'s own path, which compresses
 * for it alone; so does everything under the threshold, which goes as a plain frame.
 *
 * The transport wraps the `ws` socket rather than subclassing `ws`'s class: with a
 * subclass as `WebSocketServer`'s `WebSocket` option, V8 kept abandoning the
 * optimized code of the constructor and of `ws`'s `completeUpgrade` ("dependency
 * change", over and over under a connection storm) and ran them unoptimized.
 */
import { setImmediate } from "node:timers";
import { constants, deflateRawSync } from "node:zlib";
import type { WebSocket } from "ws";
import * as wsModule from "ws";
import type { EngineLimits, Transport, Wire } from "../../core/adapter.ts";

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
  _extensions?: { "permessage-deflate"?: { params?: DeflateParams } };
}

/** The permessage-deflate parameters `ws` accepted for a socket. */
interface DeflateParams {
  server_no_context_takeover?: boolean;
  server_max_window_bits?: number | boolean;
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

/** How a socket takes messages: plain frames, frames deflated once for all, or `ws`'s own compression. */
enum Deflate {
  Off,
  Shared,
  Own,
}

/** The tail a sync flush leaves, which permessage-deflate cuts (RFC 7692 §7.2.1). */
const SYNC_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** zlib's defaults, as `ws` deflates: a 15-bit window, so only sockets that accepted it share the frame. */
const DEFLATE = { finishFlush: constants.Z_SYNC_FLUSH, windowBits: 15 } as const;

/** One message framed for every socket: plain, deflated on first need, and its payload for `ws`'s own path. */
export class NodeFrame {
  readonly payload: Buffer;
  readonly binary: boolean;
  /** Whether sockets that negotiated compression get it compressed (it reaches the threshold). */
  readonly compressible: boolean;
  #chunks: Buffer[] | undefined;
  #deflated: Buffer[] | undefined;

  constructor(payload: Buffer, binary: boolean, compressible: boolean) {
    this.payload = payload;
    this.binary = binary;
    this.compressible = compressible;
  }

  /** The plain frame, made once however many sockets take it. */
  get chunks(): Buffer[] {
    this.#chunks ??= frameChunks(this.payload, this.binary, false);
    return this.#chunks;
  }

  /** The frame with the payload deflated, made once however many sockets take it. */
  get deflated(): Buffer[] {
    if (this.#deflated === undefined) {
      const raw = deflateRawSync(this.payload, DEFLATE);
      const cut = raw.subarray(raw.length - 4).equals(SYNC_TAIL) ? raw.subarray(0, raw.length - 4) : raw;
      this.#deflated = frameChunks(cut, this.binary, true);
    }
    return this.#deflated;
  }
}

/** Frames each message once, for any number of sockets; `compression` gives the threshold. */
export function nodeWire({ compression }: EngineLimits): Wire {
  const threshold = compression ? compression.threshold : Number.POSITIVE_INFINITY;
  return { prepare: (message) => frameOnce(message, threshold) };
}
/** Sockets corked during this loop iteration; uncorked together in the check phase. */
const corked: Writable[] = [];
/** Marks a socket as in `corked` (cheaper than a Set lookup per message and client). */
const CORKED = Symbol("polysocket.corked");

/** A `ws` socket as the core's transport; `send` writes a frame built once by {@link nodeWire}. */
export class SharedFrameTransport implements Transport {
  readonly ws: WebSocket;
  readonly #deflate: Deflate;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.#deflate = deflateOf(ws);
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(message: unknown): void {
    const frame = message as NodeFrame;
    const compress = frame.compressible && this.#deflate !== Deflate.Off;
    const socket = compress && this.#deflate === Deflate.Own ? undefined : idleSocket(this.ws);
    if (socket === undefined) this.ws.send(frame.payload, { binary: frame.binary, compress });
    else writeCorked(socket, compress ? frame.deflated : frame.chunks);
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
 * How `ws` agreed to compress for this socket: not at all, in frames this
 * module deflates once (no server context, full window), or by `ws` itself.
 */
function deflateOf(ws: WebSocket): Deflate {
  const extensions = (ws as unknown as WsInternals)._extensions;
  if (extensions === undefined || ws.extensions === "") return Deflate.Off;
  const params = extensions["permessage-deflate"]?.params;
  if (params === undefined) return ws.extensions.includes("permessage-deflate") ? Deflate.Own : Deflate.Off;
  const window = params.server_max_window_bits;
  const fullWindow = window === undefined || window === true || window === DEFLATE.windowBits;
  return params.server_no_context_takeover === true && fullWindow ? Deflate.Shared : Deflate.Own;
}

/**
 * The message over a payload of its own (text encoded, bytes copied: the caller
 * may reuse its buffer at once), framed plain; compressed on first need.
 */
function frameOnce(data: string | Uint8Array, threshold: number): NodeFrame {
  // Buffer.from copies a Uint8Array and encodes a string: either way the payload is ours.
  const payload = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  return new NodeFrame(payload, typeof data !== "string", payload.length >= threshold);
}

/** One unmasked frame: header and payload joined into one buffer when small (one write instead of a writev of two). */
function frameChunks(payload: Buffer, binary: boolean, rsv1: boolean): Buffer[] {
  const options = { fin: true, opcode: binary ? BINARY : TEXT, mask: false, readOnly: true, rsv1 };
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
}
