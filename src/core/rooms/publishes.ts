/**
 * Members' publishes: through the application's `onPublish` (in each sender's
 * order, even when the hook is async), checked, stored, and answered: `ack`
 * or `nack` when the publish had a `ref`, otherwise a `notice` when it failed.
 */
import type { Connection } from "../connection.ts";
import { encodeFrame, type Ref } from "../resume-protocol.ts";
import { MAX_JSON_DEPTH, shallowEnough } from "./frames.ts";
import type { Room } from "./room.ts";
import type { Origin, RoomData } from "./store.ts";

/** What the application's hook makes of a member's publish. */
export type PublishHook = (
  conn: Connection,
  room: Room,
  data: RoomData,
) => RoomData | undefined | Promise<RoomData | undefined>;

/** One publish being handled: who sent it, to which room, under which ref (and session, for exactly once). */
interface Sent {
  readonly conn: Connection;
  readonly room: string;
  readonly ref: Ref | undefined;
  readonly origin: Origin | undefined;
}

/** The publishes of every member of a `Rooms`; see the module documentation. */
export class Publishes {
  readonly #hook: PublishHook;
  /** Per connection, the last publish whose hook is still running: the next waits for it. */
  readonly #tails = new Map<Connection, Promise<void>>();

  constructor(hook: PublishHook) {
    this.#hook = hook;
  }

  /** Handles `data` sent by `conn` to `room` (`undefined` if it is not a member there). */
  take(
    conn: Connection,
    name: string,
    room: Room | undefined,
    data: RoomData | undefined,
    ref?: Ref,
    session?: string,
  ): void {
    const origin = session === undefined ? undefined : { session, n: ref as number };
    const sent: Sent = { conn, room: name, ref, origin };
    if (room === undefined || !room.has(conn)) {
      // After a reconnect, a resend can come before the rejoin: it may be sent again once joined.
      this.#refused(sent, "not in this room", origin !== undefined);
      return;
    }
    const refusal = refusalOf(data);
    if (refusal !== undefined || data === undefined) {
      this.#refusedInRoom(sent, room, refusal ?? "malformed frame");
      return;
    }
    const prior = this.#tails.get(conn);
    if (prior !== undefined) {
      this.#after(
        sent,
        room,
        prior.then(() => this.#hook(conn, room, data)),
      );
      return;
    }
    let result: ReturnType<PublishHook>;
    try {
      result = this.#hook(conn, room, data);
    } catch (error) {
      this.#failed(sent, room, error);
      return;
    }
    // A synchronous hook stores at once: appends reach the store in the order they came.
    if (result instanceof Promise) this.#after(sent, room, result);
    else this.#store(sent, room, result);
  }

  /** Forgets `conn` (it is gone). */
  forget(conn: Connection): void {
    this.#tails.delete(conn);
  }

  /** Stores what `pending` resolves to; the next publish of the same sender waits for it. */
  #after(sent: Sent, room: Room, pending: Promise<RoomData | undefined>): void {
    const { conn } = sent;
    const tail: Promise<void> = pending
      .then(
        (stored) => this.#store(sent, room, stored),
        (error) => this.#failed(sent, room, error),
      )
      .finally(() => {
        if (this.#tails.get(conn) === tail) this.#tails.delete(conn);
      });
    this.#tails.set(conn, tail);
  }

  #store(sent: Sent, room: Room, stored: RoomData | undefined): void {
    if (stored === undefined) {
      // Dropped on purpose: silently, unless the sender waits for an answer.
      if (sent.ref !== undefined) this.#refusedInRoom(sent, room, "dropped by the server");
      return;
    }
    try {
      checkData(stored); // what the hook returned
    } catch (error) {
      this.#refusedInRoom(sent, room, (error as Error).message);
      return;
    }
    const storing = sent.origin ? room.publishOnce(stored, sent.origin) : room.publish(stored);
    storing.then(
      (seq) => this.#ack(sent, seq),
      (error) => this.#notStored(sent, error),
    );
  }

  /** The hook refused it (it threw). */
  #failed(sent: Sent, room: Room, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (sent.ref === undefined) this.#notice(sent, `Message not delivered: ${reason}`);
    else this.#refusedInRoom(sent, room, reason);
  }

  /**
   * Refused for good in a room. A message sent exactly once still uses up its
   * number (recorded as handled), so that the session's next one is in order.
   */
  #refusedInRoom(sent: Sent, room: Room, reason: string): void {
    if (sent.origin === undefined) {
      this.#refused(sent, reason, false);
      return;
    }
    room.publishOnce(undefined, sent.origin).then(
      () => this.#refused(sent, reason, false),
      (error) => this.#notStored(sent, error),
    );
  }

  /** The store did not take it (unreachable, out of order): sending it again may work. */
  #notStored(sent: Sent, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (sent.ref === undefined) this.#notice(sent, `Message not delivered: ${reason}`);
    else this.#nack(sent, reason, true);
  }

  /** Not taken: a nack with a ref, a notice without. */
  #refused(sent: Sent, reason: string, retry: boolean): void {
    if (sent.ref !== undefined) this.#nack(sent, reason, retry);
    else this.#notice(sent, reason);
  }

  #ack(sent: Sent, seq: number): void {
    if (sent.ref !== undefined) this.#send(sent, { type: "ack", room: sent.room, ref: sent.ref, seq });
  }

  #nack(sent: Sent, reason: string, retry: boolean): void {
    const frame = { type: "nack", room: sent.room, ref: sent.ref!, reason } as const;
    this.#send(sent, retry ? { ...frame, retry: true } : frame);
  }

  #notice(sent: Sent, text: string): void {
    this.#send(sent, { type: "notice", room: sent.room, text });
  }

  #send(sent: Sent, frame: Parameters<typeof encodeFrame>[0]): void {
    sent.conn.send(encodeFrame(frame));
  }
}

/** Why a member's publish cannot be taken at all, or `undefined` if it can. */
function refusalOf(data: RoomData | undefined): string | undefined {
  if (data === undefined) return "malformed frame";
  if (!shallowEnough(data)) return `malformed frame: nested deeper than ${MAX_JSON_DEPTH} levels`;
  return undefined;
}

/** `TypeError` for a payload a room cannot store and send: not JSON (a BigInt, a cycle…) or nested too deeply. */
export function checkData(data: RoomData): void {
  if (typeof data === "string" || data instanceof Uint8Array) return;
  // Stringify first: it fails fast on a cycle, which the depth walk would chase.
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    throw new TypeError(`data is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) throw new TypeError("data is not JSON-serialisable");
  if (!shallowEnough(data)) throw new TypeError(`data nests deeper than ${MAX_JSON_DEPTH} levels`);
}
