/**
 * Real `polysocket/client` instances running in one runtime (test/fixtures/client.ts),
 * driven over stdin; their events are read back from stdout.
 */
import { EventLog, type FixtureEvent } from "./event-log.ts";
import { RuntimeProcess } from "./process.ts";
import type { Runtime } from "./runtimes.ts";

export class ClientFixture extends EventLog {
  /** Starts the client fixture in `runtime`; resolves with it and its WebSocket platform. */
  static async start(runtime: Runtime): Promise<{ fixture: ClientFixture; platform: string }> {
    const fixture = new ClientFixture(new RuntimeProcess(runtime, "test/fixtures/client.ts"));
    const ready = await fixture.waitFor((e) => e.ev === "ready", "ready");
    return { fixture, platform: ready.platform as string };
  }

  command(command: Record<string, unknown>): void {
    this.process.writeLine(JSON.stringify(command));
  }

  connect(name: string, url: string, options: Record<string, unknown> = {}): void {
    this.command({ cmd: "connect", name, url, options });
  }

  /** Sends `data` from client `name`; resolves with "sent", "queued" or "dropped". */
  async send(name: string, data: string): Promise<string> {
    const before = this.of(name, "sent").length;
    this.command({ cmd: "send", name, data });
    const sent = await this.waitForCount(
      (e) => e.ev === "sent" && e.name === name,
      before + 1,
      "send result",
    );
    return sent.at(-1)!.result as string;
  }

  close(name: string, code?: number): void {
    this.command({ cmd: "close", name, code });
  }

  /** Events of type `ev` from client `name`, in order. */
  of(name: string, ev: string): FixtureEvent[] {
    return this.events().filter((e) => e.name === name && e.ev === ev);
  }

  /** The text messages client `name` delivered, in order. */
  messages(name: string): string[] {
    return this.of(name, "message").map((e) => e.data as string);
  }

  /** Waits until client `name` has emitted `count` events of type `ev`; resolves with them all. */
  waitForEvents(name: string, ev: string, count = 1): Promise<FixtureEvent[]> {
    return this.waitForCount((e) => e.name === name && e.ev === ev, count, `${count} ${ev} of ${name}`);
  }
}
