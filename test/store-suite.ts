/**
 * The `RoomStore` contract (src/core/rooms/store.ts), run against every store:
 * the in-memory one (test/unit/memory-store.test.ts) and the Redis one
 * (test/redis-rooms.test.ts). Each test opens stores of its own (a store is a
 * process) and rooms of its own names, so none depends on another's state.
 */
import { expect, test } from "vitest";
import {
  type Member,
  OUT_OF_ORDER,
  type PresenceChange,
  type RetentionLimits,
  type RoomEntry,
  type RoomListener,
  type RoomSnapshot,
  type RoomStore,
} from "../src/core/rooms/store.ts";
import { within } from "./harness/deadline.ts";

/** How to get stores for the suite. */
export interface StoreFactory {
  /** Opens a new store: with a shared store, a new process on the same Redis. */
  open(): Promise<RoomStore>;
  /** Whether two stores from `open` share their rooms (a shared store), or each has its own (memory). */
  readonly shared: boolean;
}

/** One call a store made on a listener. */
export type Heard =
  | { kind: "message"; entry: RoomEntry }
  | { kind: "presence"; change: PresenceChange }
  | { kind: "orphaned"; members: readonly Member[] }
  | { kind: "restarted"; epoch: string }
  | { kind: "revived" };

/** A listener that records what it is told, and waits (with a deadline) for what a test expects. */
export class RecordingListener implements RoomListener {
  readonly heard: Heard[] = [];
  #waiters = new Set<() => void>();

  message(entry: RoomEntry): void {
    this.#record({ kind: "message", entry });
  }
  presence(change: PresenceChange): void {
    this.#record({ kind: "presence", change });
  }
  orphaned(members: readonly Member[]): void {
    this.#record({ kind: "orphaned", members });
  }
  restarted(epoch: string): void {
    this.#record({ kind: "restarted", epoch });
  }
  revived(): void {
    this.#record({ kind: "revived" });
  }

  /** The messages heard, in order. */
  get messages(): RoomEntry[] {
    return this.heard.flatMap((h) => (h.kind === "message" ? [h.entry] : []));
  }

  /** Resolves once `probe` holds; fails after `ms`, naming `what` and what was heard. */
  until(probe: (heard: readonly Heard[]) => boolean, what: string, ms = 5000): Promise<void> {
    if (probe(this.heard)) return Promise.resolve();
    let check!: () => void;
    const done = new Promise<void>((resolve) => {
      check = () => {
        if (!probe(this.heard)) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
    return within(done, ms, () => `expected ${what} within ${ms} ms; heard ${summary(this.heard)}`).finally(
      () => this.#waiters.delete(check),
    );
  }

  /** Resolves once `count` messages were heard. */
  untilMessages(count: number, ms?: number): Promise<void> {
    return this.until(
      (heard) => heard.filter((h) => h.kind === "message").length >= count,
      `${count} messages`,
      ms,
    );
  }

  #record(heard: Heard): void {
    this.heard.push(heard);
    for (const check of [...this.#waiters]) check();
  }
}

function summary(heard: readonly Heard[]): string {
  const shown = heard.slice(-8).map((h) => {
    if (h.kind === "message") return `message ${h.entry.seq}`;
    if (h.kind === "presence") return `presence ${JSON.stringify(h.change)}`;
    if (h.kind === "orphaned") return `orphaned ${h.members.map((m) => m.id).join(",")}`;
    return h.kind;
  });
  return `${heard.length} calls [${heard.length > 8 ? "…, " : ""}${shown.join("; ")}]`;
}

const LIMITS: RetentionLimits = { historyLimit: 100, maxAge: undefined };
let rooms = 0;
/** A room name no other test (or earlier run on a shared Redis) uses. */
export const freshRoom = (what: string): string => `${what}-${Date.now()}-${++rooms}`;

/** The contract's tests, named `[name] …`, each with stores from `factory`. */
export function storeSuite(name: string, factory: () => StoreFactory): void {
  /** Runs `body` with stores from a fresh factory, closing them after. */
  const withStores = async (body: (open: () => Promise<RoomStore>) => Promise<void>): Promise<void> => {
    const source = factory();
    const opened: RoomStore[] = [];
    try {
      await body(async () => {
        const store = await source.open();
        opened.push(store);
        return store;
      });
    } finally {
      await Promise.all(opened.map((store) => store.close()));
    }
  };

  test(`[${name}] messages are numbered 1, 2, 3… and heard once each, in order, the appender's own included`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("numbering");
      const listener = new RecordingListener();
      const snapshot = await store.open(room, LIMITS, listener);
      expect(snapshot).toMatchObject({ history: [], lastSeq: 0, online: [] });
      expect(typeof snapshot.epoch).toBe("string");
      const seqs = await Promise.all(Array.from({ length: 30 }, (_, n) => store.append(room, `m${n}`)));
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n + 1));
      await listener.untilMessages(30);
      const heard = listener.messages;
      expect(heard.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, n) => n + 1));
      // Each message under the number its append resolved with.
      for (const [n, seq] of seqs.entries()) expect(heard[seq - 1]!.data).toBe(`m${n}`);
      expect(heard.every((e) => typeof e.time === "number" && Math.abs(e.time - Date.now()) < 60_000)).toBe(
        true,
      );
    }));

  test(`[${name}] history by count: a reopened room replays the latest historyLimit, lastSeq the latest number`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("count");
      const limits = { historyLimit: 3, maxAge: undefined };
      await store.open(room, limits, new RecordingListener());
      for (let n = 1; n <= 5; n++) await store.append(room, `m${n}`);
      await store.release(room);
      const snapshot = await store.open(room, limits, new RecordingListener());
      expect(snapshot.lastSeq).toBe(5);
      expect(snapshot.history.map((e) => [e.seq, e.data])).toEqual([
        [3, "m3"],
        [4, "m4"],
        [5, "m5"],
      ]);
      await store.release(room);
      const none = await store.open(room, { historyLimit: 0, maxAge: undefined }, new RecordingListener());
      expect(none).toMatchObject({ history: [], lastSeq: 5 });
    }));

  test(`[${name}] history by age: messages older than maxAge are not replayed`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("age");
      const maxAge = 300;
      const listener = new RecordingListener();
      await store.open(room, { historyLimit: 10, maxAge }, listener);
      await store.append(room, "old");
      await listener.untilMessages(1);
      const old = listener.messages[0]!;
      // The store's clock is this machine's (Redis's TIME on the same host): wait until "old" is past maxAge.
      await until(() => Date.now() > old.time + maxAge + 50, `"old" to be older than ${maxAge} ms`, 2000);
      await store.append(room, "new");
      await store.release(room);
      const snapshot = await store.open(room, { historyLimit: 10, maxAge }, new RecordingListener());
      expect(snapshot.lastSeq).toBe(2);
      expect(snapshot.history.map((e) => e.data)).toEqual(["new"]);
    }));

  test(`[${name}] presence carries the application's info; a join with a message is one append`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("presence");
      const listener = new RecordingListener();
      await store.open(room, LIMITS, listener);
      const ann: Member = { id: "c-ann", info: { nick: "ann", tags: ["a", 1] } };
      const bob: Member = { id: "c-bob", info: "bob" };
      expect(await store.append(room, undefined, { join: ann })).toBe(0);
      expect(await store.append(room, "bob joined", { join: bob })).toBe(1);
      await listener.until(
        (heard) => heard.filter((h) => h.kind === "presence").length >= 2,
        "two presence changes",
      );
      const changes = listener.heard.filter((h) => h.kind !== "orphaned");
      expect(changes).toEqual([
        { kind: "presence", change: { join: ann } },
        { kind: "message", entry: expect.objectContaining({ seq: 1, data: "bob joined" }) },
        { kind: "presence", change: { join: bob } },
      ]);
      await store.release(room);
      const snapshot = await store.open(room, LIMITS, new RecordingListener());
      expect(sortById(snapshot.online)).toEqual([ann, bob]);
      expect(snapshot.history.map((e) => e.data)).toEqual(["bob joined"]);
    }));

  test(`[${name}] a leave of a member not online stores nothing, message included; a leave of one online is stored once`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("leave");
      const listener = new RecordingListener();
      await store.open(room, LIMITS, listener);
      await store.append(room, "ann joined", { join: { id: "c-ann", info: "ann" } });
      expect(await store.append(room, "ghost left", { leave: "c-ghost" })).toBe(0);
      expect(await store.append(room, "ann left", { leave: "c-ann" })).toBe(2);
      expect(await store.append(room, "ann left again", { leave: "c-ann" })).toBe(0);
      expect(await store.append(room, "after")).toBe(3);
      await listener.untilMessages(3);
      expect(listener.messages.map((e) => e.data)).toEqual(["ann joined", "ann left", "after"]);
      const presence = listener.heard.filter((h) => h.kind === "presence");
      expect(presence).toEqual([
        { kind: "presence", change: { join: { id: "c-ann", info: "ann" } } },
        { kind: "presence", change: { leave: "c-ann" } },
      ]);
      await store.release(room);
      expect((await store.open(room, LIMITS, new RecordingListener())).online).toEqual([]);
    }));

  test(`[${name}] a released room tells its listener nothing more, and reopened keeps its history and numbering`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("release");
      const first = new RecordingListener();
      const opened = await store.open(room, LIMITS, first);
      await store.append(room, "one");
      await first.untilMessages(1);
      await store.release(room);
      const second = new RecordingListener();
      const snapshot = await store.open(room, LIMITS, second);
      expect(snapshot.epoch).toBe(opened.epoch);
      expect(snapshot).toMatchObject({ lastSeq: 1, history: [{ seq: 1, data: "one" }] });
      expect(await store.append(room, "two")).toBe(2);
      await second.untilMessages(1);
      expect(second.messages.map((e) => [e.seq, e.data])).toEqual([[2, "two"]]);
      expect(
        first.messages.map((e) => e.seq),
        "the released listener heard nothing after release",
      ).toEqual([1]);
      await expect(store.append(freshRoom("never-opened"), "x")).rejects.toThrow(/not open/);
    }));

  test(`[${name}] text, JSON values and bytes round trip, live and in history; a reused buffer changes nothing stored`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("payloads");
      const listener = new RecordingListener();
      await store.open(room, LIMITS, listener);
      const bytes = new Uint8Array([0, 255, 10, 13, 123, 125, 0]);
      const payloads = [
        "héllo\n{ünïcode} 🎉",
        "",
        { a: [1, "x", null, true], b: { c: 1.5 } },
        42,
        null,
        false,
        ["x"],
      ];
      for (const data of payloads) await store.append(room, data);
      const appended = store.append(room, bytes);
      bytes.fill(7); // the caller reuses its buffer at once: the bytes were taken already
      await appended;
      await listener.untilMessages(payloads.length + 1);
      const expected = [...payloads, new Uint8Array([0, 255, 10, 13, 123, 125, 0])];
      const check = (entries: readonly RoomEntry[]) => {
        expect(entries.map((e) => e.data)).toEqual(expected);
        const last = entries.at(-1)!.data;
        expect(last instanceof Uint8Array, "bytes come back as a Uint8Array").toBe(true);
        expect(typeof entries[0]!.data).toBe("string");
      };
      check(listener.messages);
      await store.release(room);
      check((await store.open(room, LIMITS, new RecordingListener())).history);
    }));

  test(`[${name}] with an origin: stored once per session and number; a repeat resolves with the first seq, a skipped number is refused with the number due`, () =>
    withStores(async (open) => {
      const store = await open();
      const room = freshRoom("origin");
      const listener = new RecordingListener();
      await store.open(room, LIMITS, listener);
      await store.append(room, "plain");
      expect(await store.append(room, "one", undefined, { session: "s1", n: 1 })).toBe(2);
      expect(await store.append(room, "one again", undefined, { session: "s1", n: 1 })).toBe(2);
      expect(await store.append(room, "other session", undefined, { session: "s2", n: 1 })).toBe(3);
      const skipped = store.append(room, "three", undefined, { session: "s1", n: 3 });
      await expect(skipped).rejects.toMatchObject({ code: OUT_OF_ORDER, expected: 2 });
      // A number the server refused (no data) is used up: recorded, nothing stored.
      expect(await store.append(room, undefined, undefined, { session: "s1", n: 2 })).toBe(0);
      expect(await store.append(room, "two again", undefined, { session: "s1", n: 2 })).toBe(0);
      expect(await store.append(room, "three", undefined, { session: "s1", n: 3 })).toBe(4);
      await listener.untilMessages(4);
      expect(listener.messages.map((e) => [e.seq, e.data])).toEqual([
        [1, "plain"],
        [2, "one"],
        [3, "other session"],
        [4, "three"],
      ]);
      // The session survives a release (a client's repeat may reach the room after it emptied).
      await store.release(room);
      await store.open(room, LIMITS, new RecordingListener());
      expect(await store.append(room, "three again", undefined, { session: "s1", n: 3 })).toBe(4);
    }));

  if (!factory().shared) return;

  test(`[${name}] two stores (two processes) see one stream: one numbering, one order, every message once`, () =>
    withStores(async (open) => {
      const [a, b] = await Promise.all([open(), open()]);
      const room = freshRoom("shared");
      const [heardA, heardB] = [new RecordingListener(), new RecordingListener()];
      const snapshotA = await a.open(room, LIMITS, heardA);
      await a.append(room, "before b", { join: { id: "c-a", info: "a" } });
      const snapshotB = await b.open(room, LIMITS, heardB);
      expect(snapshotB.epoch).toBe(snapshotA.epoch);
      expect(snapshotB).toMatchObject({ lastSeq: 1, history: [{ seq: 1, data: "before b" }] });
      expect(snapshotB.online).toEqual([{ id: "c-a", info: "a" }]);
      const sent = await Promise.all(
        Array.from({ length: 40 }, (_, n) => (n % 2 ? a : b).append(room, `${n % 2 ? "a" : "b"}${n}`)),
      );
      await heardA.untilMessages(41);
      await heardB.untilMessages(40);
      const seqsA = heardA.messages.map((e) => e.seq);
      expect(seqsA).toEqual(Array.from({ length: 41 }, (_, n) => n + 1));
      expect(heardB.messages).toEqual(heardA.messages.slice(1));
      expect([...sent].sort((x, y) => x - y)).toEqual(seqsA.slice(1));
      // A session's repeat through the other store (the client reconnected elsewhere) is acknowledged, not stored.
      const first = await a.append(room, "once", undefined, { session: "moving", n: 1 });
      expect(await b.append(room, "once", undefined, { session: "moving", n: 1 })).toBe(first);
      await expect(b.append(room, "skip", undefined, { session: "moving", n: 3 })).rejects.toMatchObject({
        code: OUT_OF_ORDER,
        expected: 2,
      });
      await heardB.until(
        (heard) => heard.some((h) => h.kind === "message" && h.entry.seq === first),
        "the message",
      );
      expect(heardB.messages.filter((e) => e.data === "once")).toHaveLength(1);
      // B hears A's presence changes too.
      await a.append(room, undefined, { leave: "c-a" });
      await heardB.until(
        (heard) => heard.some((h) => h.kind === "presence" && h.change.leave === "c-a"),
        "the leave stored by the other store",
      );
    }));
}

function sortById(members: readonly Member[]): Member[] {
  return [...members].sort((x, y) => x.id.localeCompare(y.id));
}

/** Polls `probe` every 10 ms until it holds; fails after `ms`, naming `what`. */
export async function until(probe: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`expected ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export type { RoomSnapshot };
