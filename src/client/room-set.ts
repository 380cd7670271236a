/**
 * The rooms one client is in: created by `client.join`, rejoined from their own
 * resume points at every welcome, and the frames naming a room routed to it.
 */
import { type ClientFrame, isRoom, MAX_ROOM_NAME } from "../core/resume-protocol.ts";
import { ClientRoom, type RoomFrame, type RoomLink } from "./room.ts";

/** What the set needs from its client: the room link without `detach`, which the set provides. */
export type ClientLink = Omit<RoomLink, "detach">;

/** The rooms of one client, by name. */
export class RoomSet {
  readonly #rooms = new Map<string, ClientRoom>();
  /** `leave`s the server was sent and has not answered with `left` yet, by room. */
  readonly #leaving = new Map<string, number>();
  readonly #link: RoomLink;

  /** An empty set writing through `link`. */
  constructor(link: ClientLink) {
    this.#link = { ...link, detach: (room, sent) => this.#detach(room, sent) };
  }

  /** The rooms joined (or joining), in the order they were joined. */
  get rooms(): ClientRoom[] {
    return [...this.#rooms.values()];
  }

  /** The handle of `name`, created (and its join sent, if the connection is welcomed) on first call. */
  join(name: string): ClientRoom {
    if (!isRoom(name)) {
      throw new TypeError(
        `room name must be 1 to ${MAX_ROOM_NAME} characters without control characters, got ${JSON.stringify(name)}`,
      );
    }
    const existing = this.#rooms.get(name);
    if (existing) return existing;
    const room = new ClientRoom(name, this.#link);
    this.#rooms.set(name, room);
    this.#link.write(room.joinFrame());
    return room;
  }

  /** A connection was welcomed: every room asks to join again, from its own resume point. */
  rejoin(write: (frame: ClientFrame) => void): void {
    this.#leaving.clear(); // answers to leaves sent on an older connection never come
    for (const room of this.#rooms.values()) write(room.joinFrame());
  }

  /** The connection is gone: every room waits for its next `joined`. */
  disconnected(): void {
    for (const room of this.#rooms.values()) room.disconnected();
  }

  /** The client closed for good: every room is left. */
  closed(): void {
    for (const room of this.#rooms.values()) room.closed();
  }

  /** Hands a frame naming a room to that room; an answer to our own `leave` is swallowed. */
  route(frame: RoomFrame & { readonly room: string }): void {
    if (frame.type === "left" && this.#answersLeave(frame.room)) return;
    this.#rooms.get(frame.room)?.receive(frame);
  }

  #answersLeave(name: string): boolean {
    const pending = this.#leaving.get(name) ?? 0;
    if (pending === 0) return false;
    if (pending === 1) this.#leaving.delete(name);
    else this.#leaving.set(name, pending - 1);
    return true;
  }

  #detach(room: ClientRoom, sent: boolean): void {
    if (this.#rooms.get(room.name) === room) this.#rooms.delete(room.name);
    if (sent) this.#leaving.set(room.name, (this.#leaving.get(room.name) ?? 0) + 1);
  }
}
