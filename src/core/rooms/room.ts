/**
 * `Room`: one room open in this process. It mirrors the room's stream from its
 * store (numbered, bounded history), delivers each message once to every local
 * member in the form its kind reads (frames.ts), replays what a resuming member
 * missed exactly once, reports gaps, and keeps presence (who is in the room in
 * every process, with what the application says identifies them).
 */
import { Audience } from "../audience.ts";
import type { Connection } from "../connection.ts";
import type { MetricsObserver } from "../observer.ts";
import type { ResumePoint, ServerFrame } from "../resume-protocol.ts";
import { type MemberKind, messageFrame, plainPayload, roomFrame } from "./frames.ts";
import type {
  Member,
  Origin,
  PresenceChange,
  RetentionLimits,
  RoomData,
  RoomEntry,
  RoomListener,
  RoomSnapshot,
  RoomStore,
} from "./store.ts";

/** What a room asks of whoever opened it. */
export interface RoomPolicy {
  /** How much history the room keeps and replays. */
  readonly limits: RetentionLimits;
  /** The message stored with a member's join (atomically, with the presence change); none when absent. */
  readonly joinNotice?: (member: Member, room: string) => RoomData | undefined;
  /** The message stored with a member's leave; none when absent. */
  readonly leaveNotice?: (member: Member, room: string) => RoomData | undefined;
  /** Where a notice or presence change the store refused goes. */
  readonly onError: (error: unknown) => void;
  /** Told when the room opens and is released, and of each member's join and leave. */
  readonly observer?: Required<MetricsObserver> | undefined;
}

/** A local member: its kind of client, and who presence says it is. */
interface Local {
  readonly kind: MemberKind;
  readonly member: Member;
}

/** One room open in this process; see the module documentation. */
export class Room {
  /** The room's name, unique in its store. */
  readonly name: string;
  readonly #store: RoomStore;
  readonly #policy: RoomPolicy;
  #epoch = "";
  #seq = 0;
  readonly #history: RoomEntry[] = [];
  /** Who is in the room, in every process, by connection id. */
  readonly #online = new Map<string, Member>();
  readonly #locals = new Map<Connection, Local>();
  /** By kind of member, each made for its first member (a room mostly has one kind; an unused audience cost ~450 B). */
  readonly #audiences: Partial<Record<MemberKind, Audience>> = {};
  /**
   * Resumable members ahead of this process's copy (they resumed past its
   * latest message, from a process further along): the number they have, so
   * that messages up to it are not sent twice.
   */
  readonly #ahead = new Map<Connection, number>();
  /** Listener calls that came before the snapshot was applied. */
  #early: (() => void)[] | undefined = [];
  /** Store calls in flight: a release waits for them. */
  readonly #inFlight = new Set<Promise<unknown>>();

  /** A room not yet started; {@link start} it with the store's snapshot. */
  constructor(store: RoomStore, name: string, policy: RoomPolicy) {
    this.#store = store;
    this.name = name;
    this.#policy = policy;
  }

  /** Opens `name` in `store` and starts the room on the snapshot. */
  static async open(store: RoomStore, name: string, policy: RoomPolicy): Promise<Room> {
    const room = new Room(store, name, policy);
    room.start(await store.open(name, policy.limits, room.listener));
    return room;
  }

  /** What the store calls; calls before {@link start} wait for it. */
  readonly listener: RoomListener = {
    message: (entry) => this.#whenStarted(() => this.#deliver(entry)),
    presence: (change) => this.#whenStarted(() => this.#presenceChanged(change)),
    orphaned: (members) => this.#whenStarted(() => this.#orphaned(members)),
    restarted: (epoch) => this.#whenStarted(() => this.#restarted(epoch)),
    revived: () => this.#whenStarted(() => this.#revived()),
  };

  /** Applies the store's snapshot, then what the store said meanwhile. */
  start(snapshot: RoomSnapshot): void {
    this.#policy.observer?.roomOpened();
    this.#epoch = snapshot.epoch;
    this.#seq = snapshot.lastSeq;
    const { historyLimit } = this.#policy.limits;
    this.#history.push(...(historyLimit > 0 ? snapshot.history.slice(-historyLimit) : []));
    for (const member of snapshot.online) this.#online.set(member.id, member);
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const call of early) call();
  }

  /** Id of the room's numbering; resuming members from another epoch start over. */
  get epoch(): string {
    return this.#epoch;
  }

  /** Sequence number of the latest message (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The messages a newcomer is replayed, oldest first. */
  get history(): readonly RoomEntry[] {
    return this.#replayable();
  }

  /** Who is in the room, in every process serving it. */
  get online(): readonly Member[] {
    return [...this.#online.values()];
  }

  /** This process's members. */
  get members(): readonly Connection[] {
    return [...this.#locals.keys()];
  }

  /** Number of this process's members. */
  get size(): number {
    return this.#locals.size;
  }

  /** Whether `conn` is a member here. */
  has(conn: Connection): boolean {
    return this.#locals.has(conn);
  }

  /** The kind of client `conn` is in this room; `undefined` for a non-member. */
  kindOf(conn: Connection): MemberKind | undefined {
    return this.#locals.get(conn)?.kind;
  }

  /**
   * Stores `data` as the room's next message: resolves with its sequence
   * number once stored (every member, in every process, then receives it);
   * rejects if the store refused it, in which case nobody receives it.
   */
  publish(data: RoomData): Promise<number> {
    return this.#track(this.#store.append(this.name, data));
  }

  /**
   * A client's message, exactly once: stored unless its `origin` was stored
   * before (then it resolves with the seq it got). Without `data`, the number
   * is only recorded as handled (the server refused that message).
   */
  publishOnce(data: RoomData | undefined, origin: Origin): Promise<number> {
    return this.#track(this.#store.append(this.name, data, undefined, origin));
  }

  /**
   * Adds `conn`: a resumable member is replayed what it missed since `resume`
   * (everything kept for a first join), then gets live messages; a plain one
   * gets the history's payloads. Then its join is announced.
   */
  add(conn: Connection, kind: MemberKind, info: Member["info"], resume?: ResumePoint): void {
    if (this.#locals.has(conn)) return;
    const member: Member = { id: conn.id, info };
    this.#locals.set(conn, { kind, member });
    this.#policy.observer?.roomJoined();
    if (kind === "plain") {
      for (const entry of this.#replayable()) conn.send(plainPayload(entry.data));
    } else {
      this.#replay(conn, kind, resume);
      if (kind === "named") this.#members(conn);
    }
    if (!this.#ahead.has(conn)) this.#audience(kind).add(conn);
    this.#announce(member, { join: member }, this.#policy.joinNotice);
  }

  /** Removes `conn` and announces its leave; false if it was not a member. */
  remove(conn: Connection): boolean {
    const local = this.#locals.get(conn);
    if (local === undefined) return false;
    this.#locals.delete(conn);
    this.#policy.observer?.roomLeft();
    this.#ahead.delete(conn);
    this.#audiences[local.kind]?.delete(conn);
    this.#announce(local.member, { leave: conn.id }, this.#policy.leaveNotice);
    return true;
  }

  /** Waits for the store calls in flight, then stops serving the room here. */
  async release(): Promise<void> {
    const { observer } = this.#policy;
    if (observer) {
      for (let i = 0; i < this.#locals.size; i++) observer.roomLeft(); // members kept connected, out of the count
      observer.roomReleased();
    }
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#store.release(this.name);
  }

  /** Sends `frame` (about this room) to one resumable member. */
  sendFrame(conn: Connection, frame: ServerFrame): void {
    const local = this.#locals.get(conn);
    if (local && local.kind !== "plain") conn.send(roomFrame(this.#label(local.kind), frame));
  }

  #whenStarted(call: () => void): void {
    if (this.#early) this.#early.push(call);
    else call();
  }

  /** One message of the stream, in order: into the history, out to every member. */
  #deliver(entry: RoomEntry): void {
    if (entry.seq <= this.#seq) return; // delivered before
    if (entry.seq > this.#seq + 1) {
      // The store trimmed messages before this process read them: the history is no longer consecutive.
      this.#history.length = 0;
      this.#toResumable({ type: "gap", from: this.#seq + 1, to: entry.seq - 1 });
    }
    this.#seq = entry.seq;
    this.#history.push(entry);
    if (this.#history.length > this.#policy.limits.historyLimit) this.#history.shift();
    const { plain } = this.#audiences;
    if (plain?.size) plain.send(plainPayload(entry.data));
    if (this.#ahead.size > 0) this.#catchUp(entry.seq);
    const { bare, named } = this.#audiences; // after the catch-up, which may make one
    if (bare?.size) bare.send(messageFrame(undefined, entry.seq, entry.data));
    if (named?.size) named.send(messageFrame(this.name, entry.seq, entry.data));
  }

  /** Members ahead of the room that do not have message `seq` yet get frames from it on. */
  #catchUp(seq: number): void {
    for (const [conn, has] of this.#ahead) {
      if (seq <= has) continue;
      this.#ahead.delete(conn);
      const local = this.#locals.get(conn);
      if (local) this.#audience(local.kind).add(conn);
    }
  }

  /** A frame for every resumable member, those ahead of the room included. */
  #toResumable(frame: ServerFrame): void {
    const { bare, named } = this.#audiences;
    if (bare?.size) bare.send(roomFrame(undefined, frame));
    if (named?.size) named.send(roomFrame(this.name, frame));
    for (const conn of this.#ahead.keys()) this.sendFrame(conn, frame);
  }

  /**
   * A named member is told it joined (with the room's epoch and latest number);
   * then, for a known epoch, a gap if the history starts too late, and every
   * message after its resume point. A bare member had its `welcome` from the `ChatRoom`.
   */
  #replay(conn: Connection, kind: MemberKind, resume: ResumePoint | undefined): void {
    const label = this.#label(kind);
    if (kind === "named") {
      conn.send(roomFrame(label, { type: "joined", room: this.name, epoch: this.#epoch, seq: this.#seq }));
    }
    // Another epoch means the room restarted: its numbers mean nothing here, so send everything.
    const known = resume !== undefined && resume.epoch === this.#epoch;
    const after = known ? Math.min(resume.seq, this.#seq) : 0;
    if (known && resume.seq > this.#seq) this.#ahead.set(conn, resume.seq);
    const history = this.#replayable();
    const first = history[0]?.seq ?? this.#seq + 1;
    if (known && first > after + 1) {
      conn.send(roomFrame(label, { type: "gap", from: after + 1, to: first - 1 }));
    }
    // Sequence numbers in the history are consecutive, so the start is an index.
    for (let i = Math.max(0, after + 1 - first); i < history.length; i++) {
      const entry = history[i]!;
      conn.send(messageFrame(label, entry.seq, entry.data));
    }
  }

  /** The history within the age limit (the count limit holds already). */
  #replayable(): readonly RoomEntry[] {
    const { maxAge } = this.#policy.limits;
    if (maxAge === undefined) return this.#history;
    const oldest = Date.now() - maxAge;
    const start = this.#history.findIndex((entry) => entry.time >= oldest);
    return start === 0 ? this.#history : start < 0 ? [] : this.#history.slice(start);
  }

  /** The audience of `kind`, made on its first member. */
  #audience(kind: MemberKind): Audience {
    this.#audiences[kind] ??= new Audience();
    return this.#audiences[kind];
  }

  #label(kind: MemberKind): string | undefined {
    return kind === "named" ? this.name : undefined;
  }

  /**
   * Who is in the room changed. A `Rooms` member is told the change alone
   * (`joined` or `left`): it had the whole list when it joined, and a list per
   * change would cost the cube of the room's size in a join storm. A
   * `ChatRoom`'s members get the whole list, as before.
   */
  #presenceChanged(change: PresenceChange): void {
    const { join, leave } = change;
    if (join) this.#online.set(join.id, join);
    if (leave !== undefined && !this.#online.delete(leave) && !join) return; // nothing changed
    const { bare, named } = this.#audiences;
    if (bare?.size || this.#hasAhead("bare")) {
      this.#send("bare", { type: "presence", online: [...this.#online.values()].map((m) => m.info) });
    }
    if (named?.size || this.#hasAhead("named")) {
      if (join) this.#send("named", { type: "presence", room: this.name, joined: join });
      if (leave !== undefined) this.#send("named", { type: "presence", room: this.name, left: leave });
    }
  }

  /** Whether a member of `kind` is ahead of the room (outside its audience for now). */
  #hasAhead(kind: MemberKind): boolean {
    for (const conn of this.#ahead.keys()) if (this.#locals.get(conn)?.kind === kind) return true;
    return false;
  }

  /** A frame for the resumable members of `kind`, those ahead of the room included. */
  #send(kind: "bare" | "named", frame: ServerFrame): void {
    const text = roomFrame(this.#label(kind), frame);
    this.#audiences[kind]?.send(text);
    for (const conn of this.#ahead.keys()) if (this.#locals.get(conn)?.kind === kind) conn.send(text);
  }

  /** The whole presence list, to one named member (when it joins, or the room restarted). */
  #members(conn: Connection): void {
    const members = [...this.#online.values()].map(({ id, info }) => ({ id, info }));
    conn.send(roomFrame(this.name, { type: "presence", room: this.name, members }));
  }

  /** A join or leave, stored with its notice (if the policy has one). */
  #announce(
    member: Member,
    change: PresenceChange,
    notice: ((member: Member, room: string) => RoomData | undefined) | undefined,
  ): void {
    let data: RoomData | undefined;
    try {
      data = notice?.(member, this.name);
    } catch (error) {
      this.#policy.onError(error); // a throwing notice hook must not cost the presence change
    }
    this.#track(this.#store.append(this.name, data, change)).catch(this.#policy.onError);
  }

  #track<T>(call: Promise<T>): Promise<T> {
    this.#inFlight.add(call);
    const done = () => this.#inFlight.delete(call);
    call.then(done, done);
    return call;
  }

  /** Members of a process that vanished: their leaves are announced (the store stores each once). */
  #orphaned(members: readonly Member[]): void {
    for (const member of members) this.#announce(member, { leave: member.id }, this.#policy.leaveNotice);
  }

  /** This process was taken for dead: its members are announced again. */
  #revived(): void {
    for (const { member } of this.#locals.values()) {
      this.#announce(member, { join: member }, this.#policy.joinNotice);
    }
  }

  /**
   * The store lost the room: start over under the new epoch. A `ChatRoom`'s
   * resumable members are closed with 1012 (their clients reconnect and report
   * the restart); a named member is told it joined anew (its client reports the
   * restart and goes on); everyone's join is announced again.
   */
  #restarted(epoch: string): void {
    this.#epoch = epoch;
    this.#seq = 0;
    this.#history.length = 0;
    this.#online.clear();
    this.#catchUp(Number.POSITIVE_INFINITY);
    for (const [conn, local] of [...this.#locals]) {
      if (local.kind === "bare") {
        conn.close(1012, "room restarted");
        continue;
      }
      if (local.kind === "named") {
        this.sendFrame(conn, { type: "joined", room: this.name, epoch, seq: 0 });
        this.#members(conn);
      }
      this.#announce(local.member, { join: local.member }, this.#policy.joinNotice);
    }
  }
}
