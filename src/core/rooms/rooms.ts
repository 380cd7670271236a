/**
 * `Rooms`: many named rooms per server and per connection. A room is opened
 * (in its store) when it gets its first member in this process and released
 * when its last one leaves; its history stays where the store keeps it. The
 * members speak the resumable protocol's room frames (resume-protocol.ts):
 * `join` (with a resume point after a reconnect), `leave`, `publish`.
 */
import type { Connection } from "../connection.ts";
import {
  type ClientFrame,
  decodeClientFrame,
  encodeFrame,
  fromBase64,
  isRoom,
  type ResumePoint,
} from "../resume-protocol.ts";
import { MAX_JSON_DEPTH, shallowEnough } from "./frames.ts";
import { type ResolvedRoomsOptions, type RoomsOptions, resolveRoomsOptions } from "./options.ts";
import { Room, type RoomPolicy } from "./room.ts";
import type { RoomData } from "./store.ts";

/** The rooms of a server (or of several); see the module documentation. */
export class Rooms {
  readonly #options: ResolvedRoomsOptions;
  readonly #policy: RoomPolicy;
  /** Whether the store was made here (then {@link close} closes it). */
  readonly #ownsStore: boolean;
  /** Rooms opening or open, by name. */
  readonly #opening = new Map<string, Promise<Room>>();
  /** Rooms open, by name. */
  readonly #open = new Map<string, Room>();
  /** Rooms being released: opening one again waits for it. */
  readonly #releasing = new Map<string, Promise<void>>();
  /** Joins and publishes under way, by room: a room is not released under them. */
  readonly #busy = new Map<string, number>();
  /** The rooms each accepted connection is in, or joining. */
  readonly #memberships = new Map<Connection, Set<string>>();
  /** Per connection, the last publish whose `onPublish` is still running: the next waits for it. */
  readonly #tails = new Map<Connection, Promise<void>>();

  /** Checks `options` (`TypeError` naming a bad one). */
  constructor(options: RoomsOptions = {}) {
    this.#options = resolveRoomsOptions(options);
    this.#ownsStore = options.store === undefined;
    const { historyLimit, maxAge, joinNotice, leaveNotice, onError } = this.#options;
    this.#policy = { limits: { historyLimit, maxAge }, joinNotice, leaveNotice, onError };
  }

  /** The room `name` if it is open in this process. */
  get(name: string): Room | undefined {
    return this.#open.get(name);
  }

  /** Names of the rooms open in this process. */
  get names(): readonly string[] {
    return [...this.#open.keys()];
  }

  /** The rooms `conn` is in (or joining). */
  of(conn: Connection): readonly string[] {
    return [...(this.#memberships.get(conn) ?? [])];
  }

  /** Takes `conn` in (e.g. in `onConnect`): it is told its id (`welcome`) and may join rooms. */
  accept(conn: Connection): void {
    if (this.#memberships.has(conn)) return;
    this.#memberships.set(conn, new Set());
    conn.send(encodeFrame({ type: "welcome", id: conn.id }));
  }

  /**
   * Handles one incoming message (e.g. in `onMessage`): a room frame is acted
   * on and `undefined` returned; anything else comes back unchanged, for the application.
   */
  receive(conn: Connection, raw: string | Uint8Array): string | Uint8Array | undefined {
    if (typeof raw !== "string" || !this.#memberships.has(conn)) return raw;
    const frame = decodeClientFrame(raw);
    if (frame === undefined || frame.type === "message") {
      if (!looksLikeFrame(raw)) return raw;
      this.#notice(conn, undefined, "malformed frame");
      return undefined;
    }
    this.#handle(conn, frame);
    return undefined;
  }

  /** Takes `conn` out of every room (e.g. in `onDisconnect`). */
  drop(conn: Connection): void {
    const joined = this.#memberships.get(conn);
    if (joined === undefined) return;
    this.#memberships.delete(conn);
    this.#tails.delete(conn);
    for (const name of joined) this.#remove(conn, name);
  }

  /**
   * Puts `conn` into room `name` (accepting it first if need be): replays what
   * it missed since `resume`, then live messages. Resolves false if the join
   * was refused (too many rooms, `canJoin`, the store failed): `conn` got a `left` frame saying why.
   */
  async join(conn: Connection, name: string, resume?: ResumePoint): Promise<boolean> {
    if (!isRoom(name)) throw new TypeError(`room names are 1-200 characters without control characters`);
    this.accept(conn);
    const joined = this.#memberships.get(conn)!;
    if (joined.has(name)) return true;
    if (joined.size >= this.#options.maxRoomsPerConnection) {
      return this.#refuse(conn, name, `too many rooms (at most ${this.#options.maxRoomsPerConnection})`);
    }
    joined.add(name);
    this.#hold(name, 1);
    try {
      const verdict = await this.#options.canJoin(conn, name);
      if (verdict !== true) return this.#refuse(conn, name, String(verdict), joined);
      const room = await this.#room(name);
      // Left, or gone, while the room opened: nothing to do.
      if (this.#memberships.get(conn) !== joined || !joined.has(name)) return false;
      room.add(conn, "named", this.#options.presence(conn), resume);
      return true;
    } catch (error) {
      this.#options.onError(error);
      return this.#refuse(conn, name, "the room cannot be opened now", joined);
    } finally {
      this.#hold(name, -1);
    }
  }

  /** Takes `conn` out of room `name`; false if it was not in it. */
  leave(conn: Connection, name: string): boolean {
    if (!this.#memberships.get(conn)?.delete(name)) return false;
    this.#remove(conn, name);
    return true;
  }

  /**
   * Stores `data` as the next message of room `name` (opening it for the
   * moment if need be): resolves with its sequence number once stored, rejects if the store refused it.
   */
  async publish(name: string, data: RoomData): Promise<number> {
    if (!isRoom(name)) throw new TypeError(`room names are 1-200 characters without control characters`);
    checkData(data);
    // The bytes are taken now: a buffer reused after the call changes nothing stored.
    const payload = data instanceof Uint8Array ? data.slice() : data;
    this.#hold(name, 1);
    try {
      return await (await this.#room(name)).publish(payload);
    } finally {
      this.#hold(name, -1);
    }
  }

  /** Releases every room (members stay connected); closes the store if it was made here. */
  async close(): Promise<void> {
    const rooms = [...this.#open.values()];
    this.#open.clear();
    this.#opening.clear();
    await Promise.allSettled([...rooms.map((room) => room.release()), ...this.#releasing.values()]);
    if (this.#ownsStore) await this.#options.store.close();
  }

  #handle(conn: Connection, frame: Exclude<ClientFrame, { type: "message" }>): void {
    switch (frame.type) {
      case "ping":
        conn.send(encodeFrame({ type: "pong" }));
        return;
      case "join": {
        const resume = frame.epoch === undefined ? undefined : { epoch: frame.epoch, seq: frame.seq ?? 0 };
        void this.join(conn, frame.room, resume);
        return;
      }
      case "leave":
        if (this.leave(conn, frame.room)) conn.send(encodeFrame({ type: "left", room: frame.room }));
        return;
      case "publish": {
        const data = frame.binary ? fromBase64(frame.data as string) : frame.data;
        if (data === undefined) this.#notice(conn, frame.room, "malformed frame");
        else if (!shallowEnough(data)) {
          this.#notice(conn, frame.room, `malformed frame: nested deeper than ${MAX_JSON_DEPTH} levels`);
        } else this.#publishFrom(conn, frame.room, data);
      }
    }
  }

  /** A member's publish: through `onPublish` (in the sender's order, even when it is async), then stored. */
  #publishFrom(conn: Connection, name: string, data: RoomData): void {
    const room = this.#open.get(name);
    if (room === undefined || !room.has(conn)) {
      this.#notice(conn, name, "not in this room");
      return;
    }
    const { onPublish } = this.#options;
    const prior = this.#tails.get(conn);
    if (prior !== undefined) {
      this.#then(
        conn,
        room,
        prior.then(() => onPublish(conn, room, data)),
      );
      return;
    }
    let result: ReturnType<typeof onPublish>;
    try {
      result = onPublish(conn, room, data);
    } catch (error) {
      this.#undelivered(conn, name, error);
      return;
    }
    // A synchronous hook stores at once: appends go to the store in the order they came.
    if (result instanceof Promise) this.#then(conn, room, result);
    else this.#store(conn, room, result);
  }

  /** Stores what `pending` resolves to; the next publish of `conn` waits for it. */
  #then(conn: Connection, room: Room, pending: Promise<RoomData | undefined>): void {
    const tail: Promise<void> = pending
      .then(
        (stored) => this.#store(conn, room, stored),
        (error) => this.#undelivered(conn, room.name, error),
      )
      .finally(() => {
        if (this.#tails.get(conn) === tail) this.#tails.delete(conn);
      });
    this.#tails.set(conn, tail);
  }

  #store(conn: Connection, room: Room, stored: RoomData | undefined): void {
    if (stored === undefined) return;
    try {
      checkData(stored); // what onPublish returned
    } catch (error) {
      this.#undelivered(conn, room.name, error);
      return;
    }
    room.publish(stored).catch((error) => this.#undelivered(conn, room.name, error));
  }

  #undelivered(conn: Connection, room: string | undefined, error: unknown): void {
    this.#notice(
      conn,
      room,
      `Message not delivered: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  #notice(conn: Connection, room: string | undefined, text: string): void {
    conn.send(encodeFrame(room === undefined ? { type: "notice", text } : { type: "notice", room, text }));
  }

  #refuse(conn: Connection, name: string, reason: string, joined?: Set<string>): false {
    joined?.delete(name);
    conn.send(encodeFrame({ type: "left", room: name, reason }));
    return false;
  }

  #remove(conn: Connection, name: string): void {
    this.#open.get(name)?.remove(conn);
    this.#releaseIfIdle(name);
  }

  /** The open room `name`, opening it (after a release under way) if need be. */
  #room(name: string): Promise<Room> {
    let opening = this.#opening.get(name);
    if (opening === undefined) {
      const released = this.#releasing.get(name) ?? Promise.resolve();
      opening = released.then(() => Room.open(this.#options.store, name, this.#policy));
      this.#opening.set(name, opening);
      opening.then(
        (room) => {
          if (this.#opening.get(name) === opening) this.#open.set(name, room);
        },
        () => {
          if (this.#opening.get(name) === opening) this.#opening.delete(name);
        },
      );
    }
    return opening;
  }

  #hold(name: string, delta: number): void {
    const busy = (this.#busy.get(name) ?? 0) + delta;
    if (busy > 0) return void this.#busy.set(name, busy);
    this.#busy.delete(name);
    this.#releaseIfIdle(name);
  }

  /** Releases room `name` once nobody here is in it, joining it or publishing to it. */
  #releaseIfIdle(name: string): void {
    const room = this.#open.get(name);
    if (room === undefined || room.size > 0 || this.#busy.has(name)) return;
    this.#open.delete(name);
    this.#opening.delete(name);
    const release: Promise<void> = room
      .release()
      .catch(this.#options.onError)
      .finally(() => {
        if (this.#releasing.get(name) === release) this.#releasing.delete(name);
      });
    this.#releasing.set(name, release);
  }
}

/** `TypeError` for a payload a room cannot store and send: not JSON (a BigInt, a cycle…) or nested too deeply. */
function checkData(data: RoomData): void {
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

/** Whether `text` is a JSON object with a `type`: a frame, if a malformed one. */
function looksLikeFrame(text: string): boolean {
  if (!text.startsWith("{")) return false;
  try {
    const value = JSON.parse(text) as { type?: unknown };
    return typeof value === "object" && value !== null && typeof value.type === "string";
  } catch {
    return false;
  }
}
