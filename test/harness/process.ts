/**
 * A program running in one runtime, its stdout read line by line so tests can
 * wait for what it prints instead of sleeping.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { commandFor, ROOT, type Runtime } from "./runtimes.ts";

const WAIT_MS = 15_000;

/** Where and how to start a program other than `file` in the project root (e.g. an installed package). */
export interface Launch {
  cwd?: string;
  command?: [string, string[]];
}

export class RuntimeProcess {
  readonly lines: string[] = [];
  stderr = "";
  readonly #child: ChildProcess;
  readonly #exit: Promise<number | null>;
  #listeners = new Set<() => void>();

  constructor(runtime: Runtime, file: string, env: Record<string, string> = {}, launch: Launch = {}) {
    const [command, args] = launch.command ?? commandFor(runtime, file);
    this.#child = spawn(command, args, {
      cwd: launch.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      this.lines.push(line);
      for (const notify of this.#listeners) notify();
    });
    this.#child.stderr!.on("data", (chunk) => {
      this.stderr += chunk;
    });
    this.#exit = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
    void this.#exit.then(() => {
      for (const notify of this.#listeners) notify();
    });
  }

  /** Starts any command line in `cwd` (e.g. an installed package's bin, outside the repository). */
  static command(command: [string, string[]], cwd: string, env: Record<string, string> = {}): RuntimeProcess {
    return new RuntimeProcess("node", "", env, { command, cwd });
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** Resolves with the first line (from the start) that satisfies `match`. */
  waitForLine(match: (line: string) => boolean, what = "a matching line"): Promise<string> {
    return this.waitUntil(() => this.lines.find(match), what);
  }

  /** Resolves when `probe` returns a value; rejects on exit or after a generous deadline. */
  waitUntil<T>(probe: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value !== undefined) return finish(() => resolve(value));
        if (this.exited) finish(() => reject(this.#failure(`exited before ${what}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(this.#failure(`timed out waiting for ${what}`))),
        WAIT_MS,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Writes one line to the program's stdin (fixtures that take commands read it). */
  writeLine(line: string): void {
    this.#child.stdin!.write(`${line}\n`);
  }

  /** Resolves with the exit code once the program ends by itself. */
  finished(): Promise<number | null> {
    return this.#exit;
  }

  /** Sends `signal` (e.g. SIGSTOP, SIGCONT) without waiting for anything. */
  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.exited) this.#child.kill(signal);
    return this.#exit;
  }

  #failure(what: string): Error {
    return new Error(`${what}\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
  }
}
