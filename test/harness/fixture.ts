/**
 * The fixture server (test/fixtures/server.ts) started in one runtime, with its
 * printed events parsed so tests can wait for hooks by what they saw.
 */
import { RuntimeProcess } from "./process.ts";
import type { Runtime } from "./runtimes.ts";

export interface FixtureEvent {
  ev: string;
  id?: string;
  [key: string]: unknown;
}

export class Fixture {
  readonly process: RuntimeProcess;
  port = 0;
  ports: number[] = [];

  private constructor(process: RuntimeProcess) {
    this.process = process;
  }

  /** Starts the fixture in `runtime` and waits until it listens. */
  static async start(
    runtime: Runtime,
    scenario = "default",
    env: Record<string, string> = {},
  ): Promise<Fixture> {
    const fixture = new Fixture(
      new RuntimeProcess(runtime, "test/fixtures/server.ts", { SCENARIO: scenario, ...env }),
    );
    if (scenario !== "options" && scenario !== "taken") {
      const listening = await fixture.waitFor((e) => e.ev === "listening", "listening");
      fixture.port = listening.port as number;
      fixture.ports = listening.ports as number[];
    }
    return fixture;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  readonly #events: FixtureEvent[] = [];
  #parsed = 0;

  /** Every event printed so far, in order (parsed once per line). */
  events(): FixtureEvent[] {
    const { lines } = this.process;
    for (; this.#parsed < lines.length; this.#parsed++) {
      const line = lines[this.#parsed] as string;
      if (line.startsWith("{")) this.#events.push(JSON.parse(line));
    }
    return this.#events;
  }

  /** The first event (from the start) matching `match`. */
  waitFor(match: (event: FixtureEvent) => boolean, what = "an event"): Promise<FixtureEvent> {
    return this.process.waitUntil(() => this.events().find(match), what);
  }

  /** Waits for `count` events matching `match`. */
  waitForCount(
    match: (event: FixtureEvent) => boolean,
    count: number,
    what = "events",
  ): Promise<FixtureEvent[]> {
    return this.process.waitUntil(() => {
      const found = this.events().filter(match);
      return found.length >= count ? found : undefined;
    }, `${count} ${what}`);
  }

  /** SIGTERM: the fixture closes its servers gracefully and exits. */
  stop(): Promise<number | null> {
    return this.process.stop("SIGTERM");
  }
}
