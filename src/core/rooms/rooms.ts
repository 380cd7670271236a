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
  type Ref,
  type ResumePoint,
} from "../resume-protocol.ts";
import { type ResolvedRoomsOptions, type RoomsOptions, resolveRoomsOptions } from "./options.ts";
import { checkData, Publishes } from "./publishes.ts";
import { Room, type RoomPolicy } from "./room.ts";
import type { JsonValue, RoomData } from "./store.ts";

/**
 * The rooms of a server (or of several); see the module documentation.
 * `Message` is what `onPublish` gets: the `schema`'s output.
 */
export class Rooms<Message = RoomData> {
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
  /** Members' publishes, in each sender's order. */
  readonly #publishes: Publishes;

  /** Checks `options` (`TypeError` naming a bad one). */
  constructor(options: RoomsOptions<Message> = {}) {
    this.#options = resolveRoomsOptions(options);
    this.#ownsStore = options.store === undefined;
    this.#publishes = new Publishes(this.#options.onPublish);
    const { historyLimit, maxAge, joinNotice, leaveNotice, onError, observer } = this.#options;
    this.#policy = { limits: { historyLimit, maxAge }, joinNotice, leaveNotice, onError, observer };
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
    this.#publishes.forget(conn);
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
      case "request":
        this.#respond(conn, frame.id, frame.data);
        return;
      case "publish": {
        const data = frame.binary ? fromBase64(frame.data as string) : frame.data;
        this.#publishes.take(conn, frame.room, this.#open.get(frame.room), data, frame.ref, frame.session);
      }
    }
  }

  /** Runs the `respond` handler; its result or error goes back as the `response`. */
  #respond(conn: Connection, id: Ref, data: JsonValue): void {
    const { respond } = this.#options;
    const answer = (result: JsonValue | undefined) => {
      try {
        conn.send(
          encodeFrame(
            result === undefined ? { type: "response", id } : { type: "response", id, data: result },
          ),
        );
      } catch (error) {
        refuse(error); // not JSON (a BigInt, a cycle)
      }
    };
    const refuse = (error: unknown) =>
      conn.send(
        encodeFrame({ type: "response", id, error: error instanceof Error ? error.message : String(error) }),
      );
    if (respond === undefined) return void refuse("this server answers no requests");
    try {
      const result = respond(conn, data);
      if (result instanceof Promise) result.then(answer, refuse);
      else answer(result);
    } catch (error) {
      refuse(error);
    }
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
