/**
 * One room open in this process: hands its listener every change exactly
 * once, in order, whatever order and duplicates the channel and the catch-ups
 * bring. A message is due when its seq is the next one; a presence change when
 * its version is the next one. Anything further ahead means something was missed
 * (a reconnection, a lost publication, or a restart in Redis): the feed then
 * syncs from Redis (the stream after its last seq, the members, the epoch) and
 * holds back what arrives meanwhile.
 */
import type {
  Member,
  PresenceChange,
  RetentionLimits,
  RoomEntry,
  RoomListener,
} from "../core/rooms/store.ts";
import type { StoredMember, StoreEvent } from "./codec.ts";
import type { RoomKeys } from "./keys.ts";

/** Pause before syncing again after a failed sync, in ms. */
const RETRY_MS = 500;

/** A room's state in Redis as of one moment (the SYNC script's reply, decoded). */
export interface SyncReply {
  readonly epoch: string;
  /** Redis's clock when read, in ms. */
  readonly now: number;
  /** Entries after the seq asked for (all of them if the epoch changed), oldest first. */
  readonly entries: readonly StoreEvent[];
  readonly lastSeq: number;
  readonly members: readonly StoredMember[];
  readonly version: number;
}

/** A member as this process knows it, and since when (to tell a dead process's member from a new one). */
interface KnownMember extends StoredMember {
  readonly since: number;
}

/** Reads a room's state after `after` (its last seq) in `epoch`. */
export type Sync = (feed: RoomFeed) => Promise<SyncReply>;

/** One open room (see the module documentation). */
export class RoomFeed {
  epoch: string = "";
  lastSeq: number = 0;
  version: number = 0;
  limits: RetentionLimits;
  readonly members: Map<string, KnownMember> = new Map();
  /** Members handed to `orphaned` already, so each is reported once. */
  readonly reported: Set<string> = new Set();
  /** Changes held back while a sync runs (or until the opener has the snapshot). */
  #held: StoreEvent[] | undefined = [];
  #syncing: Promise<boolean> | undefined;
  #again = false;
  #released = false;
  /** Whether the opener's snapshot was taken: a sync before it has nothing to catch up on. */
  #begun = false;

  constructor(
    readonly name: string,
    readonly keys: RoomKeys,
    limits: RetentionLimits,
    readonly listener: RoomListener,
    readonly sync: Sync,
    readonly report: (error: unknown) => void,
  ) {
    this.limits = limits;
  }

  /** Takes the state read when opening (the listener hears nothing until {@link start}). */
  begin(reply: SyncReply): void {
    this.#begun = true;
    this.epoch = reply.epoch;
    this.lastSeq = reply.lastSeq;
    this.version = reply.version;
    for (const member of reply.members) this.members.set(member.id, { ...member, since: Date.now() });
  }

  /** Hands over what arrived since the snapshot: the opener has it now. */
  start(): void {
    if (!this.#flush()) void this.resync();
  }

  /** Stops handing anything over. */
  release(): void {
    this.#released = true;
    this.#held = undefined;
  }

  get released(): boolean {
    return this.#released;
  }

  /** A change from the channel. */
  receive(event: StoreEvent): void {
    if (this.#released) return;
    if (this.#held !== undefined) this.#held.push(event);
    else if (!this.#apply(event)) void this.resync(event);
  }

  /**
   * Catches up from Redis (after a gap, a reconnection, or to check the epoch);
   * resolves with whether the room restarted in Redis.
   */
  resync(trigger?: StoreEvent): Promise<boolean> {
    if (this.#released || !this.#begun) return Promise.resolve(false);
    this.#held ??= [];
    if (trigger) this.#held.push(trigger);
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = this.#runSync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #runSync(): Promise<boolean> {
    let restarted = false;
    do {
      this.#again = false;
      try {
        restarted = this.#take(await this.sync(this)) || restarted;
      } catch (error) {
        // Redis is away: try again a little later (the store reports the failure).
        this.report(error);
        if (!this.#released) setTimeout(() => void this.resync(), RETRY_MS);
        return restarted;
      }
      if (!this.#flush()) this.#again = true;
    } while (this.#again && !this.#released);
    return restarted;
  }

  /** Applies a sync: a new epoch if Redis lost the room, the missed entries, then presence as read. */
  #take(reply: SyncReply): boolean {
    if (this.#released) return false;
    let restarted = false;
    if (reply.epoch !== this.epoch) {
      restarted = true;
      this.epoch = reply.epoch;
      this.lastSeq = 0;
      this.version = 0;
      this.members.clear();
      this.reported.clear();
      this.#call(() => this.listener.restarted(reply.epoch));
    }
    let inStep = true; // presence changes applied one by one while their versions follow on
    for (const entry of reply.entries) {
      if (entry.seq <= this.lastSeq || entry.epoch !== this.epoch) continue;
      this.#deliver(entry);
      if (entry.version > this.version) {
        inStep &&= entry.version === this.version + 1;
        if (inStep) this.#presence(entry);
      }
    }
    if (reply.lastSeq > this.lastSeq) this.lastSeq = reply.lastSeq; // trimmed meanwhile: nothing more to hand over
    if (reply.version !== this.version || !inStep) this.#reconcile(reply.members, reply.version);
    return restarted;
  }

  /** Presence as read from Redis: a leave for whom it lacks, a join for whom it adds. */
  #reconcile(members: readonly StoredMember[], version: number): void {
    this.version = version;
    const now = new Map(members.map((m) => [m.id, m]));
    for (const id of [...this.members.keys()]) {
      if (now.has(id)) continue;
      this.members.delete(id);
      this.reported.delete(id);
      this.#call(() => this.listener.presence({ leave: id }));
    }
    for (const member of members) {
      const known = this.members.get(member.id);
      if (
        known &&
        known.process === member.process &&
        JSON.stringify(known.info) === JSON.stringify(member.info)
      ) {
        continue;
      }
      this.members.set(member.id, { ...member, since: Date.now() });
      this.#call(() => this.listener.presence({ join: { id: member.id, info: member.info } }));
    }
  }

  /**
   * Hands over what was held back, in order; `false` (holding the rest back
   * again) when something is out of line: another sync is due.
   */
  #flush(): boolean {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (let i = 0; i < held.length; i++) {
      const event = held[i]!;
      if (event.epoch !== this.epoch) continue; // the sync just read the epoch: a stray of an older one
      if (!this.#apply(event)) {
        this.#held = held.slice(i);
        return false;
      }
    }
    return true;
  }

  /** Applies a change if it is next in line; `false` if something before it is missing. */
  #apply(event: StoreEvent): boolean {
    if (event.epoch !== this.epoch) return false;
    if (event.seq > this.lastSeq + 1) return false;
    if (event.version > this.version + 1) {
      if (event.seq === this.lastSeq + 1) this.#deliver(event);
      return false;
    }
    if (event.seq === this.lastSeq + 1) this.#deliver(event);
    if (event.version === this.version + 1) this.#presence(event);
    return true;
  }

  #deliver(event: StoreEvent): void {
    if (event.seq === 0) return;
    this.lastSeq = event.seq;
    const entry: RoomEntry = { seq: event.seq, data: event.data!, time: event.time };
    this.#call(() => this.listener.message(entry));
  }

  #presence(event: StoreEvent): void {
    this.version = event.version;
    const change: { join?: Member; leave?: string } = {};
    if (event.leave !== undefined) {
      change.leave = event.leave;
      this.members.delete(event.leave);
      this.reported.delete(event.leave);
    }
    if (event.join !== undefined) {
      const { id, info, process } = event.join;
      change.join = { id, info };
      this.members.set(id, { id, info, process, since: Date.now() });
      this.reported.delete(id);
    }
    this.#call(() => this.listener.presence(change as PresenceChange));
  }

  /** Calls the listener; what it throws is reported, not allowed to break the feed. */
  #call(notify: () => void): void {
    if (this.#released) return;
    try {
      notify();
    } catch (error) {
      this.report(error);
    }
  }
}
