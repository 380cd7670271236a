/**
 * The default {@link RoomStore}: every room's stream and presence in this
 * process's memory. Nothing to install; nothing shared with other processes.
 * A released room keeps its history (within its limits) until the store is
 * closed, as a shared store would; one with no history is forgotten.
 */
import { randomId } from "../id.ts";
import type {
  Member,
  PresenceChange,
  RetentionLimits,
  RoomData,
  RoomEntry,
  RoomListener,
  RoomSnapshot,
  RoomStore,
} from "./store.ts";

/** One room's stream in memory. */
interface Stream {
  readonly epoch: string;
  readonly entries: RoomEntry[];
  lastSeq: number;
  limits: RetentionLimits;
  readonly online: Map<string, Member>;
  listener: RoomListener | undefined;
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
      stream = { epoch: randomId(), entries: [], lastSeq: 0, limits, online: new Map(), listener };
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

  append(room: string, data: RoomData | undefined, change: PresenceChange = {}): Promise<number> {
    const stream = this.#streams.get(room);
    if (stream === undefined) return Promise.reject(new Error(`room "${room}" is not open`));
    if (change.leave !== undefined && !stream.online.delete(change.leave)) return Promise.resolve(0);
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
    return Promise.resolve(seq);
  }

  release(room: string): Promise<void> {
    const stream = this.#streams.get(room);
    if (stream === undefined) return Promise.resolve();
    stream.listener = undefined;
    this.#trim(stream);
    // A room with nothing to keep costs nothing: joins of made-up names must not pile up.
    if (stream.entries.length === 0 && stream.online.size === 0) this.#streams.delete(room);
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
