/**
 * The fixture server (test/fixtures/server.ts) started in one runtime, with its
 * printed events parsed so tests can wait for hooks by what they saw.
 */
import { EventLog } from "./event-log.ts";
import { RuntimeProcess } from "./process.ts";
import type { Runtime } from "./runtimes.ts";

export type { FixtureEvent } from "./event-log.ts";

export class Fixture extends EventLog {
  port = 0;
  ports: number[] = [];

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

  /** SIGTERM: the fixture closes its servers gracefully and exits. */
  stop(): Promise<number | null> {
    return this.process.stop("SIGTERM");
  }
}
