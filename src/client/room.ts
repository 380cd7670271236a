/**
 * `ClientRoom`: one room of a `Rooms` server, as `client.join(name)` returns it.
 * It keeps the room's resume point (epoch and last delivered seq), delivers
 * each message once, and publishes exactly once (outbox.ts): held until the
 * server confirms the join, numbered, and sent again until acknowledged.
 */

import { type ClientFrame, fromBase64, type ServerFrame, toBase64 } from "../core/resume-protocol.ts";
import type { JsonValue, RoomData } from "../core/rooms/store.ts";
import { Emitter, type GapEvent } from "./events.ts";
import { Outbox, type Outgoing } from "./outbox.ts";
import { checkTimeout, Pending, PublishError } from "./pending.ts";
import { StreamPosition } from "./position.ts";

/** Options of {@link ClientRoom.publish}. */
export interface PublishOptions {
  /**
   * Reject with a `PublishError` of code "timeout" when no answer came within
   * this many ms. Default: none (the publish is sent again after every
   * reconnect until the server answers). A publish not sent by then is taken
   * back; one already sent stays in the outbox and may still be stored.
   */
  timeout?: number;
}

/** Where a room handle is: waiting for the server's `joined`, in the room, or out for good. */
export type ClientRoomState = "joining" | "joined" | "left";

/** Every event of a {@link ClientRoom} and what its listeners receive. */
export interface RoomEvents {
  /** The server let this connection in (again, after a reconnect: `rejoin`); `seq` is the room's latest. */
  joined: { readonly epoch: string; readonly seq: number; readonly rejoin: boolean };
  /** One message, delivered once and in order: text, a JSON value, or bytes (`Uint8Array`). */
  message: { readonly data: RoomData; readonly seq: number };
  /** Messages of this room lost for good; see {@link GapEvent}. */
  gap: GapEvent;
  /**
   * Who is in the room now, as the server's application describes each member
   * (e.g. nicknames), and with their connection ids; kept from the server's
   * whole list and its changes.
   */
  presence: {
    readonly online: readonly JsonValue[];
    readonly members: readonly { readonly id: string; readonly info: JsonValue }[];
  };
  /** Text for this client alone about this room (e.g. a malformed frame). */
  notice: { readonly text: string };
  /** A publish is stored, once, as message `seq` (`data` as it was given to `publish`). */
  ack: { readonly seq: number; readonly data: RoomData };
  /** A publish was refused for good (the server's `onPublish`, a bad payload): never stored. */
  nack: { readonly reason: string; readonly data: RoomData };
  /** Out of the room for good: `leave()` (no `reason`), a refused join, or the server's decision (`reason`). */
  left: { readonly reason: string | undefined };
}

/** What a room needs from its client. */
export interface RoomLink {
  /** Sends `frame` now if the connection is welcomed; false when there is none. */
  write(frame: ClientFrame): boolean;
  /** Messages a room may hold while not joined, and what to drop when full. */
  readonly queue: { readonly limit: number; readonly overflow: "drop-newest" | "drop-oldest" };
  /** The delay before resend attempt `attempt` after a retryable `nack`, in ms. */
  retryDelay(attempt: number): number;
  /** Reports a failure (a throwing listener, a malformed frame) as the client's `error` event. */
  fail(error: Error): void;
  /** Forgets the room; `sent` says whether the server was told (a `left` answer is coming). */
  detach(room: ClientRoom, sent: boolean): void;
}

/** A frame about one room (after `client.join`); a `joined`, `left` or one naming the room. */
export type RoomFrame = Extract<ServerFrame, { readonly room?: string }>;

/**
 * One joined room: its own events and `publish`. Create it with `client.join(name)`.
 *
 * @example
 * ```ts
 * import { connect } from "polysocket/client";
 * const client = connect("ws://localhost:8080/rooms");
 * const lobby = client.join("lobby");
 * lobby.on("message", ({ data, seq }) => console.log(seq, data));
 * lobby.on("presence", ({ online }) => console.log("online:", online));
 * lobby.publish({ text: "hello" }); // held until the server confirms the join
 * const seq = await lobby.publish("stored?", { timeout: 5000 }); // its number once stored
 * ```
 */
export class ClientRoom {
  /** The room's name. */
  readonly name: string;
  readonly #link: RoomLink;
  readonly #events: Emitter<RoomEvents>;
  readonly #outbox: Outbox;
  #state: ClientRoomState = "joining";
  /** Who is in the room, by connection id. */
  readonly #online = new Map<string, JsonValue>();
  readonly #position = new StreamPosition();
  #joinedOnce = false;

  /** @internal Rooms are created by `client.join`. */
  constructor(name: string, link: RoomLink) {
    this.name = name;
    this.#link = link;
    this.#events = new Emitter<RoomEvents>((type, error) =>
      link.fail(new Error(`a "${type}" listener of room ${name} threw: ${error.message}`, { cause: error })),
    );
    this.#outbox = new Outbox(name, link);
  }

  /** Where the handle is: "joining" (also while reconnecting), "joined", or "left" for good. */
  get state(): ClientRoomState {
    return this.#state;
  }

  /** Sequence number of the last message delivered (0 before any, and again after a restart). */
  get lastSeq(): number {
    return this.#position.lastSeq;
  }

  /** The room's epoch as last joined (`undefined` before the first `joined`). */
  get epoch(): string | undefined {
    return this.#position.epoch;
  }

  /** Publishes not acknowledged yet: waiting for the join, or sent and unanswered. */
  get queued(): number {
    return this.#outbox.size;
  }

  /**
   * Listens for `type`; returns a function that stops listening. A listener that
   * throws is reported as the client's `error` event.
   *
   * @example
   * ```ts
   * import { connect } from "polysocket/client";
   * const room = connect("ws://localhost:8080/rooms").join("lobby");
   * const off = room.on("gap", (gap) => console.warn("missed", gap));
   * off();
   * ```
   */
  on<K extends keyof RoomEvents>(type: K, listener: (event: RoomEvents[K]) => void): () => void {
    return this.#events.on(type, listener);
  }

  /**
   * Publishes to the room: a string as text, a `Uint8Array` as bytes (base64 on
   * the wire), anything else as a JSON value. It is held until the server
   * confirms the join, then sent, numbered, and sent again after every rejoin
   * until the server answers; the server stores it once.
   *
   * Resolves with the message's seq once stored (`ack`). Rejects with a
   * {@link PublishError}: "refused" (a final `nack`; `message` is the server's
   * reason), "overflow" (the queue was full), "timeout" (`options.timeout`),
   * "left" or "closed". A retryable `nack` or a reconnect does not reject: it
   * is resent. Ignoring the promise is safe (fire and forget): its rejection
   * is never reported as unhandled. Throws `TypeError` for data JSON cannot
   * carry or a bad timeout.
   *
   * @example
   * ```ts
   * import { connect } from "polysocket/client";
   * const room = connect("ws://localhost:8080/rooms").join("lobby");
   * room.publish("hi"); // fire and forget
   * room.publish(new Uint8Array([1, 2, 3]));
   * try {
   *   const seq = await room.publish({ move: "e4" }, { timeout: 5000 });
   *   console.log("stored as", seq);
   * } catch (error) {
   *   console.warn("not stored:", (error as Error).message);
   * }
   * ```
   */
  publish(data: RoomData, options: PublishOptions = {}): Promise<number> {
    const timeout = checkTimeout(options?.timeout, "options.timeout");
    const [wire, copy] = outgoing(data);
    const item: Outgoing = {
      wire,
      data: copy,
      answer: new Pending<number>(timeout, () => {
        const withdrawn = this.#outbox.withdraw(item);
        return withdrawn
          ? new PublishError("timeout", `not sent within ${timeout} ms (taken back)`, false)
          : new PublishError(
              "timeout",
              `no answer within ${timeout} ms: it may still be stored (it is sent again until answered)`,
              true,
            );
      }),
    };
    if (this.#state === "left")
      item.answer.reject(new PublishError("left", "not sent: the room was left", false));
    else this.#outbox.publish(item, this.#state === "joined");
    return item.answer.promise;
  }

  /** Leaves the room for good: the server is told, queued publishes are dropped, `left` is emitted. */
  leave(): void {
    if (this.#state === "left") return;
    const sent = this.#link.write({ type: "leave", room: this.name });
    this.#end(undefined, sent);
  }

  /** @internal The `join` frame for a (re)connection: from the resume point once there is one. */
  joinFrame(): ClientFrame {
    const { point } = this.#position;
    return point === undefined
      ? { type: "join", room: this.name }
      : { type: "join", room: this.name, ...point };
  }

  /** @internal The connection is gone: publishes wait for the next `joined`. */
  disconnected(): void {
    if (this.#state === "joined") this.#state = "joining";
    this.#outbox.disconnected();
  }

  /** @internal The client closed for good. */
  closed(): void {
    if (this.#state !== "left") this.#end("client closed", false, true);
  }

  /** @internal A frame about this room. */
  receive(frame: RoomFrame): void {
    if (this.#state === "left") return;
    if (frame.type === "joined") this.#joined(frame.epoch, frame.seq);
    else if (frame.type === "ack") this.#acked(frame.ref, frame.seq);
    else if (frame.type === "nack") this.#refused(frame.ref, frame.reason, frame.retry === true);
    else if (frame.type === "left") this.#end(frame.reason ?? "removed by the server", false);
    // The server answers a join with `joined` first: anything before it belongs to an earlier membership.
    else if (this.#state === "joined") this.#event(frame);
  }

  #event(frame: RoomFrame): void {
    switch (frame.type) {
      case "message":
        this.#message(frame);
        break;
      case "gap":
        this.#position.skip(frame.to);
        this.#events.emit("gap", { reason: "history", from: frame.from, to: frame.to });
        break;
      case "presence":
        this.#presence(frame);
        break;
      case "notice":
        this.#events.emit("notice", { text: frame.text });
        break;
    }
  }

  /** The whole list (`members`) replaces what is known, a change (`joined`, `left`) updates it. */
  #presence(frame: Extract<RoomFrame, { type: "presence" }>): void {
    const online = this.#online;
    if (frame.members) {
      online.clear();
      for (const { id, info } of frame.members) online.set(id, info);
    }
    if (frame.joined) online.set(frame.joined.id, frame.joined.info);
    if (frame.left !== undefined && !online.delete(frame.left) && !frame.members && !frame.joined) return;
    const members = [...online].map(([id, info]) => ({ id, info }));
    this.#events.emit("presence", { online: members.map((m) => m.info), members });
  }

  #joined(epoch: string, seq: number): void {
    const restart = this.#position.restartBy(epoch);
    const restarted = restart !== undefined;
    if (restart) this.#events.emit("gap", restart);
    this.#position.adopt(epoch);
    this.#state = "joined";
    const rejoin = this.#joinedOnce;
    this.#joinedOnce = true;
    // Unacknowledged and held publishes go before "joined" listeners send more, keeping their order.
    this.#outbox.joined(restarted);
    this.#events.emit("joined", { epoch, seq, rejoin });
  }

  #acked(ref: unknown, seq: number): void {
    const item = this.#outbox.acked(ref);
    if (!item) return;
    item.answer.resolve(seq);
    this.#events.emit("ack", { seq, data: item.data });
  }

  #refused(ref: unknown, reason: string, retry: boolean): void {
    const item = this.#outbox.refused(ref, retry);
    if (!item) return;
    item.answer.reject(new PublishError("refused", reason, false));
    this.#events.emit("nack", { reason, data: item.data });
  }

  #message(frame: Extract<ServerFrame, { type: "message" }>): void {
    // At or below the last delivered number: replayed again after a reconnect, delivered before.
    if (!this.#position.take(frame.seq)) return;
    const data = frame.binary ? fromBase64(frame.data as string) : frame.data;
    if (data === undefined)
      this.#link.fail(new Error(`room ${this.name}: message ${frame.seq} is not base64`));
    else this.#events.emit("message", { data, seq: frame.seq });
  }

  #end(reason: string | undefined, sent: boolean, closed = false): void {
    this.#state = "left";
    if (closed) this.#outbox.clear("closed", "the client closed");
    else this.#outbox.clear("left", reason === undefined ? "the room was left" : `left: ${reason}`);
    this.#link.detach(this, sent);
    this.#events.emit("left", { reason });
  }
}

/** `data` as it goes on the wire and as kept, or a `TypeError` for what JSON cannot carry. */
function outgoing(data: RoomData): [Outgoing["wire"], RoomData] {
  // The bytes are taken now: a buffer reused after the call changes nothing sent.
  if (data instanceof Uint8Array) return [{ data: toBase64(data), binary: true }, data.slice()];
  if (typeof data !== "string" && !isJson(data)) {
    throw new TypeError(
      `publish data must be a string, a Uint8Array or a JSON value, got ${describeData(data)}`,
    );
  }
  return [{ data }, data];
}

/** Whether `value` survives JSON unchanged in kind (no undefined, function, bigint, NaN, cycle). */
export function isJson(value: unknown, seen: Set<unknown> = new Set<unknown>()): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || seen.has(value)) return false;
  seen.add(value);
  const proto = Object.getPrototypeOf(value);
  const items = Array.isArray(value)
    ? value
    : proto === Object.prototype || proto === null
      ? Object.values(value)
      : undefined;
  const ok = items?.every((item) => isJson(item, seen)) === true;
  seen.delete(value);
  return ok;
}

function describeData(value: unknown): string {
  if (typeof value === "number") return `number ${value}`;
  if (typeof value === "object" && value !== null) return `an object that is not plain JSON`;
  return typeof value;
}
