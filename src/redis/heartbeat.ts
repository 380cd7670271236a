/**
 * The process's heartbeat: one for every room it serves. Every
 * `heartbeatInterval` ms it sets its deadline (`now + deadAfter`, Redis's
 * clock) in one sorted set shared by every process, forgets those past theirs,
 * and reads who is still alive. The store then announces, in each open room,
 * the members whose process is not alive (see store.ts); a process that finds
 * itself gone from the set was taken for dead (it was paused, or Redis lost
 * the set) and says so.
 */
import type { ScriptCommands } from "./scripts.ts";

/** What one beat found. */
export interface Beat {
  /** Processes alive, this one included. */
  readonly alive: ReadonlySet<string>;
  /** This process was not registered any more (not said of the first beat). */
  readonly forgotten: boolean;
  /** When the beat was sent (`Date.now()`): members learnt of later may belong to processes it did not see. */
  readonly sentAt: number;
}

/** One process's heartbeat (see the module documentation). */
export class Heartbeat {
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating: Promise<void> | undefined;
  #first = true;
  #stopped = false;
  /** The alive set of the last beat. */
  alive: ReadonlySet<string> = new Set();

  constructor(
    readonly commands: ScriptCommands & { zrem(key: string, member: string): Promise<number> },
    readonly key: string,
    readonly process: string,
    readonly timing: { readonly heartbeatInterval: number; readonly deadAfter: number },
    readonly onBeat: (beat: Beat) => void,
    readonly onError: (error: unknown) => void,
  ) {}

  /** Registers the process (the first beat, awaited), then beats on a timer. */
  async start(): Promise<void> {
    await this.#beat(true);
    this.#timer = setInterval(() => void this.beat(), this.timing.heartbeatInterval);
    // A heartbeat alone should not keep a process alive (Node, Bun and Deno all honour unref).
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Beats now (unless a beat is on its way already). */
  beat(): Promise<void> {
    this.#beating ??= this.#beat(false).finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  /** Stops beating and leaves the set: every other process announces this one's remaining members gone. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#beating;
    await this.commands.zrem(this.key, this.process).catch(() => undefined);
  }

  async #beat(initial: boolean): Promise<void> {
    if (this.#stopped) return;
    const sentAt = Date.now();
    let reply: [number, string[]];
    try {
      reply = await this.commands.polysocketHeartbeat(this.key, this.process, this.timing.deadAfter);
    } catch (error) {
      if (initial) throw error;
      return this.onError(error);
    }
    if (this.#stopped) return;
    const [added, alive] = reply;
    this.alive = new Set(alive);
    const forgotten = added === 1 && !this.#first;
    this.#first = false;
    this.onBeat({ alive: this.alive, forgotten, sentAt });
  }
}
