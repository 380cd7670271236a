/**
 * `Client`: a WebSocket that reconnects (backoff with full jitter, by close
 * code), queues while disconnected, notices a silent server, and, in the
 * resumable protocol, delivers a room's messages exactly once and in order.
 */

import {
  type ClientFrame,
  decodeServerFrame,
  encodeFrame,
  type ServerFrame,
  withResume,
} from "../core/resume-protocol.ts";
import type { JsonValue } from "../core/rooms/store.ts";
import { backoffDelay, closeDecision } from "./backoff.ts";
import { type ClientEvents, Emitter, type Listener } from "./events.ts";
import {
  type ClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
  socketUrl,
} from "./options.ts";
import { checkTimeout, RequestError } from "./pending.ts";
import { type ClientSocket, createDialer, type Dialer } from "./platform.ts";
import { StreamPosition } from "./position.ts";
import { Requests } from "./requests.ts";
import { type ClientRoom, isJson } from "./room.ts";
import { RoomSet } from "./room-set.ts";
import { SendQueue, type SendResult } from "./send-queue.ts";

/** Where a client is: connecting (first time), open, waiting to reconnect, or closed for good. */
export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

type Timer = ReturnType<typeof setTimeout> | undefined;

/** `WebSocket.OPEN`, the same in every implementation. */
const OPEN = 1;

/** How long {@link Client.request} waits for a response unless told otherwise, in ms. */
export const REQUEST_TIMEOUT = 10_000;

/** Options of {@link Client.request}. */
export interface RequestOptions {
  /** Reject with a `RequestError` of code "timeout" after this many ms. Default 10000 ({@link REQUEST_TIMEOUT}). */
  timeout?: number;
}

/** A reconnecting WebSocket client; create one with {@link connect}. */
export class Client {
  /** The server's URL, as given (without the resume parameter). */
  readonly url: string;
  readonly #options: ResolvedClientOptions;
  readonly #events = new Emitter();
  readonly #queue: SendQueue;
  readonly #dialer: Dialer;
  #state: ClientState = "connecting";
  #socket: ClientSocket | undefined;
  /** Failed attempts in a row; reset once a connection opens. */
  #attempt = 0;
  #opened = false;
  /**
   * Whether the current connection speaks the resumable protocol: from the open
   * with `resume: true`, from the room's `welcome` (the server's first frame) with "auto".
   */
  #resumable = false;
  /** `resume: "auto"` and open, but the server's first frame has not come yet. */
  #undecided = false;
  #id: string | undefined;
  /** Welcomed on the current socket: room frames can go out. */
  #welcomedNow = false;
  readonly #rooms: RoomSet;
  readonly #requests = new Requests((frame) => this.#writeFrame(frame));
  #protocol = "";
  /** The `ChatRoom` stream's position (the resumable protocol's single room). */
  readonly #position = new StreamPosition();
  #connectTimer: Timer;
  #retryTimer: Timer;
  #pingTimer: Timer;
  #pongTimer: Timer;

  /**
   * Validates `url` and `options` (`TypeError` if bad, or if the runtime cannot
   * honour `headers` or `tls`) and starts connecting.
   */
  constructor(url: string | URL, options?: ClientOptions) {
    this.url = socketUrl(url);
    this.#options = resolveClientOptions(options);
    this.#dialer = createDialer(this.#options);
    this.#queue = new SendQueue(this.#options.maxQueued, this.#options.overflow);
    this.#rooms = new RoomSet({
      write: (frame) => this.#writeFrame(frame),
      queue: { limit: this.#options.maxQueued, overflow: this.#options.overflow },
      retryDelay: (attempt) => backoffDelay(attempt, this.#options),
      fail: (error) => this.#error(error),
    });
    void this.#open();
  }

  /** Where the client is in its life. */
  get state(): ClientState {
    return this.#state;
  }

  /** The server's id for the current connection (resumable protocol), once open. */
  get id(): string | undefined {
    return this.#id;
  }

  /** The subprotocol the server chose for the last connection that opened; `""` for none (or before any). */
  get protocol(): string {
    return this.#protocol;
  }

  /** Sequence number of the last message delivered (resumable protocol; 0 before any). */
  get lastSeq(): number {
    return this.#position.lastSeq;
  }

  /** The rooms joined with {@link Client.join} and not left, in the order they were joined. */
  get rooms(): ClientRoom[] {
    return this.#rooms.rooms;
  }

  /** Messages waiting for a connection. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Listens for `type`; returns a function that stops listening. A listener that
   * throws is reported as an `error` event; the client carries on.
   *
   * @example
   * ```ts
   * import { connect } from "polysocket/client";
   * const client = connect("ws://localhost:8080/chat");
   * const off = client.on("message", ({ data }) => console.log(data));
   * off();
   * ```
   */
  on<K extends keyof ClientEvents>(type: K, listener: Listener<K>): () => void {
    return this.#events.on(type, listener);
  }

  /**
   * Sends a text message: "sent" when it went to the open socket, "queued" when
   * it waits for the next connection, "dropped" when the queue is full or the
   * client is closed.
   */
  send(message: string): SendResult {
    if (typeof message !== "string") throw new TypeError(`message must be a string, got ${typeof message}`);
    if (this.#state === "closed") return "dropped";
    if (this.#state === "open" && this.#socket) {
      this.#write(this.#socket, message);
      return "sent";
    }
    return this.#queue.push(message);
  }

  /**
   * Joins room `name` of a `Rooms` server, or returns the handle already joined:
   * its own `message`, `gap`, `presence`, `notice`, `joined` and `left` events,
   * `publish` and `leave`. Before the server's welcome the join waits; after
   * every reconnect the client rejoins each room from its own resume point, so
   * every message arrives once per room. `TypeError` for a bad name.
   *
   * @example
   * ```ts
   * import { connect } from "polysocket/client";
   * const client = connect("ws://localhost:8080/rooms");
   * const lobby = client.join("lobby");
   * lobby.on("message", ({ data }) => console.log("lobby:", data));
   * client.join("games").on("presence", ({ online }) => console.log("games:", online));
   * lobby.publish("hello");
   * ```
   */
  join(name: string): ClientRoom {
    if (this.#state === "closed") throw new TypeError("cannot join a room: the client is closed");
    if (this.#options.resume === false) {
      throw new TypeError("cannot join a room with resume: false (rooms speak the resumable protocol)");
    }
    return this.#rooms.join(name);
  }

  /**
   * Calls the server's `respond` handler (a `Rooms` server's) with `value`, over
   * this connection: resolves with what the handler returned (`undefined` for
   * nothing). Sent once the connection is welcomed, never sent twice. Rejects
   * with a {@link RequestError}: "failed" (the handler threw, or the server has
   * none: `message` is the server's), "timeout" (`options.timeout`, default
   * 10 s), "disconnected" (the connection was lost after sending: the handler
   * may or may not have run), "closed". `TypeError` for a value JSON cannot
   * carry, a bad timeout, or `resume: false`.
   *
   * @example
   * ```ts
   * import { connect } from "polysocket/client";
   * const client = connect("ws://localhost:8080/rooms");
   * const total = await client.request({ op: "sum", values: [1, 2] }, { timeout: 3000 });
   * console.log(total);
   * ```
   */
  request(value: JsonValue, options: RequestOptions = {}): Promise<JsonValue | undefined> {
    if (this.#options.resume === false) {
      throw new TypeError("cannot send a request with resume: false (requests speak the resumable protocol)");
    }
    if (!isJson(value)) throw new TypeError("request value must be a JSON value");
    const timeout = checkTimeout(options?.timeout, "options.timeout") ?? REQUEST_TIMEOUT;
    if (this.#state === "closed") {
      const closed = Promise.reject(new RequestError("closed", "not sent: the client is closed"));
      closed.catch(() => undefined);
      return closed;
    }
    return this.#requests.request(value, timeout);
  }

  /**
   * Closes for good: no more reconnects, queued messages are dropped, and the
   * final `close` event is emitted before this returns. `code` is 1000 or 3000-4999.
   */
  close(code = 1000, reason = ""): void {
    if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new TypeError(`close code must be 1000 or 3000-4999, got ${String(code)}`);
    }
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#requests.closed(); // before detaching: what was sent is "closed", not "disconnected"
    this.#detach();
    this.#queue.drain();
    this.#rooms.closed();
    if (socket) silence(socket, () => socket.close(code, reason));
    this.#dialer.dispose();
    this.#events.emit("close", { code, reason, willRetry: false });
  }

  async #open(): Promise<void> {
    let socket: ClientSocket;
    try {
      if (this.#closed()) return;
      socket = await this.#dialer.dial(this.#connectUrl());
      if (this.#closed()) {
        // close() came while the dialer loaded `ws`: nothing may outlive it.
        silence(socket, () => socket.close());
        return this.#dialer.dispose();
      }
    } catch (error) {
      this.#error(error);
      return this.#lost(1006, "cannot create a WebSocket");
    }
    this.#socket = socket;
    this.#connectTimer = setTimeout(
      () => this.#abandon(socket, "connect timeout"),
      this.#options.connectTimeout,
    );
    socket.onopen = () => {
      if (socket !== this.#socket || this.#refuseProtocol(socket)) return;
      this.#protocol = socket.protocol;
      this.#resumable = this.#options.resume === true;
      this.#undecided = this.#options.resume === "auto";
      if (!this.#resumable) this.#ready(socket, undefined); // with `resume: true`, ready at the welcome
    };
    socket.onmessage = (event) => this.#receive(socket, event.data);
    socket.onerror = (event) => {
      if (socket !== this.#socket) return;
      this.#error(socketError(event, this.url));
      // A handshake that failed is lost now (1006): Node 22's global WebSocket never sends the close event.
      if (socket.readyState !== OPEN) this.#abandon(socket, "");
    };
    socket.onclose = (event) => {
      // Deno reports 0 when the peer vanished; the protocol's name for that is 1006.
      if (socket === this.#socket) this.#lost(event.code >= 1000 ? event.code : 1006, event.reason);
    };
  }

  #closed(): boolean {
    return this.#state === "closed";
  }

  /**
   * Offered subprotocols and the server chose none: the handshake failed. Browsers,
   * `ws` and Bun fail it themselves; Deno opens, so this makes Deno the same.
   */
  #refuseProtocol(socket: ClientSocket): boolean {
    const { protocols } = this.#options;
    if (protocols.length === 0 || protocols.includes(socket.protocol)) return false;
    this.#error(new Error(`the server chose none of the offered subprotocols (${protocols.join(", ")})`));
    this.#abandon(socket, "");
    return true;
  }

  #connectUrl(): string {
    if (this.#options.resume === false) return this.url;
    const { point } = this.#position;
    return withResume(this.url, point);
  }

  /** Connected (and, in the resumable protocol, welcomed): flush the queue, then tell listeners. */
  #ready(socket: ClientSocket, id: string | undefined): void {
    clearTimeout(this.#connectTimer);
    const reconnect = this.#opened;
    this.#opened = true;
    this.#attempt = 0;
    this.#id = id;
    this.#state = "open";
    if (id !== undefined) this.#rejoin(socket);
    // Flushing before "open" keeps order when an open listener sends right away.
    for (const message of this.#queue.drain()) this.#write(socket, message);
    this.#startHeartbeat(socket);
    this.#events.emit("open", { reconnect, id });
    if (id !== undefined) this.#events.emit("welcome", { id });
  }

  #receive(socket: ClientSocket, data: unknown): void {
    if (socket !== this.#socket) return;
    this.#alive(socket);
    if (typeof data !== "string") {
      this.#error(new Error("binary message ignored: the client is text-only"));
    } else if (this.#undecided && this.#decide(data)) {
      return;
    } else if (!this.#resumable) {
      this.#events.emit("message", { data, seq: undefined });
    } else {
      const frame = decodeServerFrame(data);
      if (frame) this.#handle(socket, frame);
      else this.#error(new Error(`malformed frame from the server: ${data.slice(0, 80)}`));
    }
  }

  #handle(socket: ClientSocket, frame: ServerFrame): void {
    if ("room" in frame && frame.room !== undefined) {
      this.#rooms.route({ ...frame, room: frame.room });
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.#welcome(socket, frame.epoch, frame.id);
        break;
      case "message":
        if (this.#position.take(frame.seq))
          this.#events.emit("message", { data: asText(frame.data), seq: frame.seq });
        break;
      case "gap":
        this.#position.skip(frame.to);
        this.#events.emit("gap", { reason: "history", from: frame.from, to: frame.to });
        break;
      case "presence":
        this.#events.emit("presence", { online: (frame.online ?? []).map(asText) });
        break;
      case "notice":
        this.#events.emit("notice", { text: frame.text });
        break;
      case "response":
        this.#requests.answer(frame);
        break;
    }
  }

  /**
   * `resume: "auto"`: the server's first frame says whether it speaks the
   * resumable protocol (a room's `welcome`) or not (anything else, delivered as
   * a plain message). Returns true when the frame was the welcome, handled here.
   */
  #decide(data: string): boolean {
    this.#undecided = false;
    const frame = decodeServerFrame(data);
    if (frame?.type !== "welcome") return false;
    this.#resumable = true;
    this.#welcome(this.#socket as ClientSocket, frame.epoch, frame.id);
    return true;
  }

  /** A welcome: a `ChatRoom`'s carries its epoch (one room, resumed by URL); a `Rooms` server's has none. */
  #welcome(socket: ClientSocket, epoch: string | undefined, id: string): void {
    if (epoch !== undefined) {
      const restart = this.#position.restartBy(epoch);
      if (restart) this.#events.emit("gap", restart);
      this.#position.adopt(epoch);
    }
    if (socket !== this.#socket) return;
    if (this.#state === "open")
      this.#welcomed(socket, id); // "auto": open already, now resumable
    else this.#ready(socket, id);
  }

  /** A room welcomed a connection that was already open ("auto"): its id is known, the heartbeat starts. */
  #welcomed(socket: ClientSocket, id: string): void {
    this.#id = id;
    this.#rejoin(socket);
    this.#startHeartbeat(socket);
    this.#events.emit("welcome", { id });
  }

  /** Welcomed: room frames may go out, starting with a join per room from its resume point. */
  #rejoin(socket: ClientSocket): void {
    this.#welcomedNow = true;
    this.#rooms.rejoin((frame) => this.#send(socket, encodeFrame(frame)));
    this.#requests.welcomed();
  }

  /** Writes a room's frame if the current connection is welcomed; false if it has to wait. */
  #writeFrame(frame: ClientFrame): boolean {
    const socket = this.#socket;
    if (!this.#welcomedNow || !socket || socket.readyState !== OPEN) return false;
    this.#send(socket, encodeFrame(frame));
    return true;
  }

  /** The current socket is gone: reconnect or stop, as the close code and `maxRetries` decide. */
  #lost(code: number, reason: string): void {
    this.#detach();
    if (this.#state === "closed") return;
    const decision = closeDecision(code);
    const attempt = this.#attempt + 1;
    const willRetry = decision !== "stop" && attempt <= this.#options.maxRetries;
    this.#state = willRetry ? "reconnecting" : "closed";
    if (!willRetry) {
      this.#queue.drain();
      this.#requests.closed();
      this.#dialer.dispose();
    }
    this.#events.emit("close", { code, reason, willRetry });
    if (!willRetry || this.#state !== "reconnecting") return; // a close listener may have closed us
    this.#attempt = attempt;
    const delay = backoffDelay(attempt, this.#options, decision);
    this.#retryTimer = setTimeout(() => {
      this.#state = "connecting";
      void this.#open();
    }, delay);
    this.#events.emit("reconnecting", { attempt, delay, code });
  }

  /** Gives up on a socket that does not answer; treated like a connection lost without a close frame. */
  #abandon(socket: ClientSocket, reason: string): void {
    if (socket !== this.#socket) return;
    silence(socket, () => (socket.terminate ? socket.terminate() : socket.close()));
    this.#lost(1006, reason);
  }

  #startHeartbeat(socket: ClientSocket): void {
    const { heartbeatInterval, heartbeatTimeout } = this.#options;
    if (!this.#resumable || heartbeatInterval === 0) return;
    this.#pingTimer = setTimeout(() => {
      this.#write(socket, undefined);
      this.#pongTimer = setTimeout(() => this.#abandon(socket, "heartbeat timeout"), heartbeatTimeout);
    }, heartbeatInterval);
  }

  /** Any frame proves the server alive: stop waiting for the pong and schedule the next ping. */
  #alive(socket: ClientSocket): void {
    if (this.#pongTimer === undefined) return;
    clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
    this.#startHeartbeat(socket);
  }

  /** Writes a chat message, or a ping when `message` is undefined. */
  #write(socket: ClientSocket, message: string | undefined): void {
    let text = message ?? "";
    if (this.#resumable) {
      text = encodeFrame(message === undefined ? { type: "ping" } : { type: "message", data: message });
    }
    this.#send(socket, text);
  }

  #send(socket: ClientSocket, text: string): void {
    try {
      socket.send(text);
    } catch (error) {
      this.#error(error); // the socket is closing; its close event follows
    }
  }

  #detach(): void {
    if (this.#welcomedNow) {
      this.#rooms.disconnected();
      this.#requests.disconnected();
    }
    this.#resumable = this.#undecided = this.#welcomedNow = false;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    this.#pingTimer = this.#pongTimer = undefined;
    this.#socket = undefined;
  }

  #error(error: unknown): void {
    this.#events.emit("error", { error: error instanceof Error ? error : new Error(String(error)) });
  }
}

/** Detaches our handlers (keeping a no-op error handler: `ws` throws without one), then runs `end`. */
function silence(socket: ClientSocket, end: () => void): void {
  socket.onopen = socket.onmessage = socket.onclose = null;
  socket.onerror = () => undefined;
  try {
    end();
  } catch {
    // already closed: nothing left to end
  }
}

/** A `ChatRoom` frame's value as the single-room events carry it: text (anything else as its JSON). */
const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function socketError(event: unknown, url: string): Error {
  const detail = (event as { message?: unknown; error?: unknown } | null) ?? {};
  if (detail.error instanceof Error) return detail.error;
  const message = typeof detail.message === "string" && detail.message ? `: ${detail.message}` : "";
  return new Error(`WebSocket error on ${url}${message}`);
}

/**
 * Connects to `url` and keeps connected until `close()`.
 *
 * @example
 * ```ts
 * import { connect } from "polysocket/client";
 * const client = connect("ws://localhost:8080/chat");
 * client.on("message", ({ data }) => console.log(data));
 * client.send("hello"); // "queued" now, sent once connected
 * ```
 */
export function connect(url: string | URL, options?: ClientOptions): Client {
  return new Client(url, options);
}
