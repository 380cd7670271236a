/**
 * The JSON lines a fixture program prints, parsed once each, so tests wait for
 * what the program saw instead of sleeping.
 */
import type { RuntimeProcess } from "./process.ts";

/** One printed event: `ev` names it, the rest is what the fixture reported. */
export interface FixtureEvent {
  ev: string;
  id?: string;
  [key: string]: unknown;
}

/** A running fixture program and the events it has printed so far. */
export class EventLog {
  readonly process: RuntimeProcess;
  readonly #events: FixtureEvent[] = [];
  #parsed = 0;

  constructor(process: RuntimeProcess) {
    this.process = process;
  }

  /** Every event printed so far, in order (parsed once per line). */
  events(): FixtureEvent[] {
    const { lines } = this.process;
    for (; this.#parsed < lines.length; this.#parsed++) {
      const line = lines[this.#parsed] as string;
      if (line.startsWith("{")) this.#events.push(JSON.parse(line));
    }
    return this.#events;
  }

  /**
   * The first event (from the start) matching `match`; rejects after the process's
   * deadline, or if it exits first, naming `what` (default: `match`'s source).
   */
  waitFor(
    match: (event: FixtureEvent) => boolean,
    what = `an event matching ${match}`,
  ): Promise<FixtureEvent> {
    return this.process.waitUntil(() => this.events().find(match), what);
  }

  /** Waits for `count` events matching `match`; resolves with them all (deadline as {@link waitFor}). */
  waitForCount(
    match: (event: FixtureEvent) => boolean,
    count: number,
    what = `events matching ${match}`,
  ): Promise<FixtureEvent[]> {
    let found: FixtureEvent[] = [];
    return this.process
      .waitUntil(() => {
        found = this.events().filter(match);
        return found.length >= count ? found : undefined;
      }, `${count} ${what}`)
      .catch((error: Error) => {
        throw new Error(`expected ${count} ${what}, got ${found.length}: ${error.message}`);
      });
  }
}
