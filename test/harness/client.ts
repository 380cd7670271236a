/**
 * A real WebSocket client (the `ws` package) that records what it receives,
 * so tests await messages and close events instead of sleeping. Every wait has
 * a deadline (`deadline` ms unless a call says otherwise) and fails naming what
 * it expected and what had arrived.
 */
import WebSocket from "ws";
import { preview, WAIT_MS, within } from "./deadline.ts";

export interface Closed {
  code: number;
  reason: string;
}

export class TestClient {
  readonly messages: (string | Uint8Array)[] = [];
  readonly socket: WebSocket;
  /** How long this client's waits last unless a call says otherwise, in ms. */
  deadline: number = WAIT_MS;
  readonly #closed: Promise<Closed>;
  #read = 0;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      this.messages.push(isBinary ? new Uint8Array(data) : data.toString());
      this.#wake();
    });
    this.#closed = new Promise((resolve) => {
      socket.once("close", (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        this.#wake();
      });
    });
  }

  /** Opens a connection; rejects with the HTTP status if the upgrade is refused. */
  static open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<TestClient> {
    const socket = new WebSocket(url, protocols, { maxPayload: 64 * 1024 * 1024, ...options });
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(client));
      socket.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk;
        });
        res.on("end", () => {
          const error = new Error(`upgrade refused: ${res.statusCode}`);
          reject(Object.assign(error, { status: res.statusCode, body }));
          socket.terminate();
        });
      });
      socket.once("error", reject);
    });
  }

  /** The close code and reason, once the connection has closed (within `deadline` ms of being awaited). */
  get closed(): Promise<Closed> {
    return this.closedWithin();
  }

  /** {@link closed} with its own deadline. */
  closedWithin(ms: number = this.deadline): Promise<Closed> {
    return within(
      this.#closed,
      ms,
      () => `expected the connection to close within ${ms} ms; still open after ${this.#got()}`,
    );
  }

  send(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  /** The next message not read yet. */
  async next(ms: number = this.deadline): Promise<string | Uint8Array> {
    await this.#until(this.#read + 1, ms, `message #${this.#read + 1}`);
    return this.messages[this.#read++] as string | Uint8Array;
  }

  /** The next message, as text. */
  async nextText(ms: number = this.deadline): Promise<string> {
    const message = await this.next(ms);
    if (typeof message !== "string") {
      throw new Error(`expected message #${this.#read} to be text, got ${message.length} binary bytes`);
    }
    return message;
  }

  /**
   * Reads messages until one satisfies `match`, and returns it; `ms` bounds the
   * whole search. `what` names the awaited message in a failure (default: `match`'s source).
   */
  async nextUntil(
    match: (message: string) => boolean,
    what: string = String(match),
    ms: number = this.deadline,
  ): Promise<string> {
    const end = Date.now() + ms;
    const from = this.#read;
    for (;;) {
      const left = end - Date.now();
      const message = await this.nextText(Math.max(left, 0)).catch((error: Error) => {
        const read = this.messages.slice(from, this.#read);
        const skipped = read.length ? `${read.length} others: ${preview(read)}` : "nothing else";
        throw new Error(
          `expected a message matching ${what} within ${ms} ms; read ${skipped}\n(${error.message})`,
        );
      });
      if (match(message)) return message;
    }
  }

  /** Resolves once `count` messages have arrived in total; rejects if the socket closes first or after `ms`. */
  receive(count: number, ms: number = this.deadline): Promise<void> {
    return this.#until(count, ms, `${count} messages`);
  }

  /** Sends `/info` and returns the server's view of this connection. */
  async info(): Promise<{
    id: string;
    headers: Record<string, string>;
    url: string;
    remoteAddress: string;
    state: string;
    frozen: boolean;
  }> {
    this.send("/info");
    return JSON.parse(await this.nextText());
  }

  close(code?: number, reason?: string): Promise<Closed> {
    this.socket.close(code, reason);
    return this.closed;
  }

  /** Resolves once `count` messages have arrived; `what` names them in a failure. */
  #until(count: number, ms: number, what: string): Promise<void> {
    let check: () => void = () => undefined;
    const arrived = new Promise<void>((resolve, reject) => {
      check = () => {
        if (this.messages.length >= count) resolve();
        else if (this.socket.readyState === WebSocket.CLOSED) {
          void this.#closed.then(({ code, reason }) =>
            reject(
              new Error(`expected ${what}; the connection closed (${code} ${reason}) after ${this.#got()}`),
            ),
          );
        }
      };
    });
    this.#waiters.add(check);
    check();
    const result = within(arrived, ms, () => `expected ${what} within ${ms} ms; got ${this.#got()}`);
    const done = () => void this.#waiters.delete(check);
    result.then(done, done);
    return result;
  }

  #wake(): void {
    for (const check of this.#waiters) check();
  }

  /** What had arrived, for failure messages: how many, and the last few. */
  #got(): string {
    return `${this.messages.length} messages: ${preview(this.messages)}`;
  }
}
