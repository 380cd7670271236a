/**
 * A command line started in its own process group, as a terminal or a service
 * manager starts a job: tests can signal its first process alone, any process
 * of it, or the whole group, and kill the whole group when done (launchers such
 * as npm and npx leave children behind when they alone are killed).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const WAIT_MS = 15_000;

/** How a process ended. */
export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Job {
  readonly lines: string[] = [];
  stderr = "";
  readonly #child: ChildProcess;
  readonly #exit: Promise<Ended>;

  constructor(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}) {
    this.#child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      detached: true, // its own process group
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: this.#child.stdout! }).on("line", (line) => this.lines.push(line));
    this.#child.stderr!.on("data", (chunk) => {
      this.stderr += chunk;
    });
    this.#exit = new Promise((resolve) =>
      this.#child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  /** The first process's id, which is also the group's. */
  get pid(): number {
    return this.#child.pid!;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves with the first line matching `pattern`'s match; fails if the job ends or `ms` pass first. */
  async waitForLine(pattern: RegExp, what: string, ms: number = WAIT_MS): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const line of this.lines) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (!this.running) throw new Error(`the job ended before ${what}${this.#output()}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms${this.#output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves with how the first process ended; fails if it still runs after `ms`. */
  async exited(ms: number = WAIT_MS): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the job still runs after ${ms} ms${this.#output()}`)), ms);
    });
    try {
      return await Promise.race([this.#exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILLs every process still in the group (including any the first one left behind). */
  killGroup(): void {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // the group is empty already
    }
  }

  #output(): string {
    return `\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`;
  }
}
