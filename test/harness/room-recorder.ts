/**
 * Records every event of a `polysocket/client` room handle in this process,
 * and waits for counts of them with a deadline that names what was expected.
 */
import type { ClientRoom, RoomEvents } from "../../src/client/index.ts";

const TYPES: (keyof RoomEvents)[] = ["joined", "message", "gap", "presence", "notice", "left", "ack", "nack"];

/** What {@link record} returns: the events seen so far, and waits for more. */
export interface RoomRecord {
  /** The events of `type`, in order. */
  of<K extends keyof RoomEvents>(type: K): RoomEvents[K][];
  /** Resolves with every event of `type` once there are `count`; rejects after `ms`. */
  wait<K extends keyof RoomEvents>(type: K, count?: number, ms?: number): Promise<RoomEvents[K][]>;
  /** The data of every message delivered, in order. */
  data(): unknown[];
  /** Resolves once `done(data())` holds; rejects after `ms` showing the data delivered. */
  until(done: (data: unknown[]) => boolean, what: string, ms?: number): Promise<void>;
}

/** Starts recording `room`'s events. */
export function record(room: ClientRoom): RoomRecord {
  const seen: { type: keyof RoomEvents; event: unknown }[] = [];
  const waiters = new Set<() => void>();
  for (const type of TYPES) {
    room.on(type, (event) => {
      seen.push({ type, event });
      for (const wake of [...waiters]) wake();
    });
  }
  const of = <K extends keyof RoomEvents>(type: K) =>
    seen.filter((e) => e.type === type).map((e) => e.event as RoomEvents[K]);
  const wait = <K extends keyof RoomEvents>(type: K, count = 1, ms = 5000) =>
    new Promise<RoomEvents[K][]>((resolve, reject) => {
      const check = () => {
        if (of(type).length < count) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(of(type));
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const last = JSON.stringify(of(type).slice(-3));
        reject(
          new Error(
            `room ${room.name}: expected ${count} ${type} events, got ${of(type).length} (last: ${last})`,
          ),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  const data = () => of("message").map((m) => m.data);
  const until = (done: (data: unknown[]) => boolean, what: string, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done(data())) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`room ${room.name}: expected ${what}; delivered ${JSON.stringify(data().slice(-6))}`),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  return { of, wait, data, until };
}
