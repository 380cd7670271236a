/**
 * The default {@link RoomStore}: every room's stream and presence in this
 * process's memory. Nothing to install; nothing shared with other processes.
 * A released room keeps its history (within its limits) until the store is
 * closed, as a shared store would; one with no history is forgotten.
 */
import { randomId } from "../id.ts";
import {
  type Member,
  type Origin,
  OUT_OF_ORDER,
  type PresenceChange,
  type RetentionLimits,
  type RoomData,
  type RoomEntry,
  type RoomListener,
  type RoomSnapshot,
  type RoomStore,
  SESSION_TTL,
  SESSION_WINDOW,
} from "./store.ts";

/** One room's stream in memory. */
interface Stream {
  readonly epoch: string;
  readonly entries: RoomEntry[];
  lastSeq: number;
  limits: RetentionLimits;
  readonly online: Map<string, Member>;
  listener: RoomListener | undefined;
  /** Clients' sessions, for exactly-once: the last number stored and the seqs of the latest. */
  readonly sessions: Map<string, Session>;
  /** Appends with an origin since the sessions were last swept for expired ones. */
  sinceSweep: number;
}

interface Session {
  last: number;
  readonly seqs: Map<number, number>;
  /** When its last message came (the store's clock). */
  at: number;
}

/** Rooms kept in this process; see the module documentation. */
export class MemoryRoomStore implements RoomStore {
  readonly #streams = new Map<string, Stream>();
  readonly #now: () => number;

  /** `now` is the clock for age limits (ms since the epoch); tests may pass their own. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  open(room: string, limits: RetentionLimits, listener: RoomListener): Promise<RoomSnapshot> {
    return Promise.resolve(this.openNow(room, limits, listener));
  }

  /** {@link open}, synchronously: a store in memory has nothing to wait for. */
  openNow(room: string, limits: RetentionLimits, listener: RoomListener): RoomSnapshot {
    let stream = this.#streams.get(room);
    if (stream === undefined) {
      stream = {
        epoch: randomId(),
        entries: [],
        lastSeq: 0,
        limits,
        online: new Map(),
        listener,
        sessions: new Map(),
        sinceSweep: 0,
      };
      this.#streams.set(room, stream);
    }
    stream.limits = limits;
    stream.listener = listener;
    this.#trim(stream);
    return {
      epoch: stream.epoch,
      history: [...stream.entries],
      lastSeq: stream.lastSeq,
      online: [...stream.online.values()],
    };
  }

  append(
    room: string,
    data: RoomData | undefined,
    change: PresenceChange = {},
    origin?: Origin,
  ): Promise<number> {
    const stream = this.#streams.get(room);
    if (stream === undefined) return Promise.reject(new Error(`room "${room}" is not open`));
    if (origin === undefined) return Promise.resolve(this.#append(stream, data, change));
    const session = this.#session(stream, origin.session);
    if (origin.n <= session.last) return Promise.resolve(session.seqs.get(origin.n) ?? 0); // a repeat
    if (origin.n > session.last + 1) return Promise.reject(outOfOrder(session.last + 1, origin.n));
    const seq = this.#append(stream, data, change);
    session.last = origin.n;
    session.seqs.set(origin.n, seq);
    session.seqs.delete(origin.n - SESSION_WINDOW);
    return Promise.resolve(seq);
  }

  #append(stream: Stream, data: RoomData | undefined, change: PresenceChange): number {
    if (change.leave !== undefined && !stream.online.delete(change.leave)) return 0;
    if (change.join !== undefined) stream.online.set(change.join.id, change.join);
    let seq = 0;
    if (data !== undefined) {
      seq = ++stream.lastSeq;
      const entry: RoomEntry = { seq, data: copy(data), time: this.#now() };
      stream.entries.push(entry);
      this.#trim(stream);
      stream.listener?.message(entry);
    }
    if (change.join !== undefined || change.leave !== undefined) stream.listener?.presence(change);
    return seq;
  }

  /** The session `id` of `stream` (new if unknown), its time refreshed; expired ones swept now and then. */
  #session(stream: Stream, id: string): Session {
    const now = this.#now();
    if (++stream.sinceSweep >= 1000) {
      stream.sinceSweep = 0;
      for (const [key, session] of stream.sessions)
        if (now - session.at > SESSION_TTL) stream.sessions.delete(key);
    }
    let session = stream.sessions.get(id);
    if (session === undefined) {
      session = { last: 0, seqs: new Map(), at: now };
      stream.sessions.set(id, session);
    }
    session.at = now;
    return session;
  }

  release(room: string): Promise<void> {
    const stream = this.#streams.get(room);
    if (stream === undefined) return Promise.resolve();
    stream.listener = undefined;
    this.#trim(stream);
    // A room with nothing to keep costs nothing: joins of made-up names must not pile up.
    if (stream.entries.length === 0 && stream.online.size === 0 && stream.sessions.size === 0) {
      this.#streams.delete(room);
    }
    return Promise.resolve();
  }

  /** Number of rooms this store holds (open, or released with a history). */
  get size(): number {
    return this.#streams.size;
  }

  close(): Promise<void> {
    this.#streams.clear();
    return Promise.resolve();
  }

  /** Drops entries past the count limit, and those older than `maxAge`. */
  #trim(stream: Stream): void {
    const { historyLimit, maxAge } = stream.limits;
    const { entries } = stream;
    if (entries.length > historyLimit) entries.splice(0, entries.length - historyLimit);
    if (maxAge === undefined) return;
    const oldest = this.#now() - maxAge;
    let stale = 0;
    while (stale < entries.length && entries[stale]!.time < oldest) stale++;
    if (stale > 0) entries.splice(0, stale);
  }
}

/** Bytes are copied when stored: a caller reusing its buffer changes nothing stored. */
function copy(data: RoomData): RoomData {
  return data instanceof Uint8Array ? data.slice() : data;
}

/** The rejection of a number that skips some: the client resends from `expected`. */
function outOfOrder(expected: number, got: number): Error {
  const error = new Error(`out of order: message ${got} of its session came before ${expected}`);
  return Object.assign(error, { code: OUT_OF_ORDER, expected });
}
