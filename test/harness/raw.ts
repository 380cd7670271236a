/**
 * A raw TCP WebSocket peer: a real handshake, then any bytes we like, so the
 * suite can send what no well-behaved client would and read the server's frames.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { WAIT_MS, within } from "./deadline.ts";

/** The default deadline of {@link RawPeer.openIncomplete}'s `ended`: long enough for any runtime's own header timeout. */
const HANDSHAKE_WAIT_MS = 15_000;

export interface RawFrame {
  opcode: number;
  payload: Buffer;
  /** RSV1: the payload is compressed (permessage-deflate). */
  rsv1: boolean;
}

export class RawPeer {
  readonly socket: Socket;
  readonly frames: RawFrame[] = [];
  readonly #ended: Promise<void>;
  readonly #serverEnded: Promise<void>;
  #buffer = Buffer.alloc(0);
  readonly #waiters = new Set<() => void>();

  private constructor(socket: Socket, rest: Buffer) {
    this.socket = socket;
    this.#ended = new Promise((resolve) => socket.once("close", () => resolve()));
    this.#serverEnded = new Promise((resolve) => socket.once("end", () => resolve()));
    void this.#ended.then(() => this.#wake());
    void this.#serverEnded.then(() => this.#wake());
    socket.on("data", (chunk: Buffer) => this.#take(chunk));
    socket.on("error", () => undefined); // a reset is an outcome here, not a failure
    if (rest.length) this.#take(rest);
  }

  /**
   * Connects and completes the opening handshake. `allowHalfOpen` keeps this side of
   * the TCP connection open after the server's FIN, as a peer that never closes would.
   */
  static open(port: number, path = "/ws", headers = "", allowHalfOpen = false): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", allowHalfOpen });
      const key = randomBytes(16).toString("base64");
      socket.once("connect", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        const status = head.subarray(0, end).toString().split(" ")[1];
        if (status !== "101") return reject(new Error(`handshake answered ${status}`));
        resolve(new RawPeer(socket, head.subarray(end + 4)));
      };
      socket.on("data", onData);
      socket.once("error", reject);
    });
  }

  /** Resolves when the TCP connection has closed (within {@link WAIT_MS} of being awaited). */
  get ended(): Promise<void> {
    return within(
      this.#ended,
      WAIT_MS,
      () => `expected the connection to end within ${WAIT_MS} ms; ${this.#seen()}`,
    );
  }

  /** Resolves when the server has closed its side (its FIN arrived), within {@link WAIT_MS} of being awaited. */
  get serverEnded(): Promise<void> {
    return within(
      this.#serverEnded,
      WAIT_MS,
      () => `expected the server's FIN within ${WAIT_MS} ms; ${this.#seen()}`,
    );
  }

  /**
   * Connects and sends `head` (by default part of the request headers), then nothing.
   * `ended` resolves when the server drops it, or rejects after `ms` (counted from the connect).
   */
  static async openIncomplete(
    port: number,
    head = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n",
    ms: number = HANDSHAKE_WAIT_MS,
  ): Promise<{ ended: Promise<void>; socket: Socket }> {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.resume(); // read (and discard) the answer, so the end is seen
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await new Promise((resolve) => socket.once("connect", resolve));
    const sent = head ? `after ${JSON.stringify(head)}` : "sending nothing";
    const ended = within(closed, ms, () => `expected the server to drop a request ${sent} within ${ms} ms`);
    if (head) socket.write(head);
    return { ended, socket };
  }

  /** The first frame the server sent (rejects after `ms`). */
  async nextFrame(ms: number = WAIT_MS): Promise<RawFrame> {
    await this.#until(() => this.frames.length > 0 || this.socket.destroyed, ms, "a frame");
    const first = this.frames[0];
    if (!first) throw new Error("connection ended without a frame");
    return first;
  }

  /** The frame at `index` in the order the server sent them (rejects after `ms`). */
  async frameAt(index: number, ms: number = WAIT_MS): Promise<RawFrame> {
    await this.#until(() => this.frames.length > index || this.socket.destroyed, ms, `frame #${index}`);
    const found = this.frames[index];
    if (!found)
      throw new Error(`connection ended after ${this.frames.length} frames, before frame #${index}`);
    return found;
  }

  write(bytes: Buffer | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves with the close code the server sent, or undefined if it dropped the TCP connection (rejects after `ms`). */
  async closeCode(ms: number = WAIT_MS): Promise<number | undefined> {
    await this.#until(
      () => this.frames.some((f) => f.opcode === 8) || this.socket.destroyed || this.socket.readableEnded,
      ms,
      "a close frame or the end of the connection",
    );
    const close = this.frames.find((f) => f.opcode === 8);
    return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
  }

  #until(done: () => boolean, ms: number, what: string): Promise<void> {
    let check: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      check = () => done() && resolve();
    });
    this.#waiters.add(check);
    check();
    const result = within(reached, ms, () => `expected ${what} within ${ms} ms; ${this.#seen()}`);
    const finish = () => void this.#waiters.delete(check);
    result.then(finish, finish);
    return result;
  }

  #wake(): void {
    for (const check of this.#waiters) check();
  }

  /** What the peer had seen, for failure messages. */
  #seen(): string {
    const opcodes = this.frames.map((f) => f.opcode).join(", ");
    return `got ${this.frames.length} frames (opcodes [${opcodes}]), socket ${this.socket.destroyed ? "closed" : "open"}`;
  }

  #take(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const frame = parseFrame(this.#buffer);
      if (!frame) break;
      this.frames.push(frame.frame);
      this.#buffer = this.#buffer.subarray(frame.size);
    }
    this.#wake();
  }
}

/** Parses one unmasked server frame, if complete. */
function parseFrame(buf: Buffer): { frame: RawFrame; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = (buf[0] as number) & 0x0f;
  let length = (buf[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  if (buf.length < offset + length) return undefined;
  const rsv1 = ((buf[0] as number) & 0x40) !== 0;
  return { frame: { opcode, payload: buf.subarray(offset, offset + length), rsv1 }, size: offset + length };
}

/** Builds one client frame: masked unless told otherwise, with an honest or a declared length. */
export function frame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; masked?: boolean; declaredLength?: bigint } = {},
): Buffer {
  const { fin = true, masked = true } = options;
  const length = options.declaredLength ?? BigInt(payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const mask = masked ? 0x80 : 0;
  if (length < 126n) head.push(mask | Number(length));
  else if (length < 65536n) head.push(mask | 126, Number(length >> 8n), Number(length & 0xffn));
  else {
    head.push(mask | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ (key[i % 4] as number)));
  return Buffer.concat([Buffer.from(head), key, body]);
}

/**
 * One message as client frames of `size` bytes each (the last may be shorter): the
 * first with `opcode`, the rest continuations, FIN on the last; `size` < 65,536.
 * Masked with a zero key (allowed, and fast for the 100,000s of frames the fragment tests send).
 */
export function fragmented(opcode: number, payload: Buffer, size: number): Buffer {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += size) {
    const part = payload.subarray(offset, offset + size);
    const fin = offset + size >= payload.length ? 0x80 : 0;
    const head = [fin | (offset === 0 ? opcode : 0)];
    if (part.length < 126) head.push(0x80 | part.length);
    else head.push(0x80 | 126, part.length >> 8, part.length & 0xff);
    frames.push(Buffer.from(head), Buffer.alloc(4), part);
  }
  return Buffer.concat(frames);
}
