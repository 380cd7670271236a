/**
 * A real WebSocket client (the `ws` package) that records what it receives,
 * so tests await messages and close events instead of sleeping.
 */
import WebSocket from "ws";

export interface Closed {
  code: number;
  reason: string;
}

export class TestClient {
  readonly messages: (string | Uint8Array)[] = [];
  readonly closed: Promise<Closed>;
  readonly socket: WebSocket;
  #read = 0;
  #wake: (() => void) | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      this.messages.push(isBinary ? new Uint8Array(data) : data.toString());
      this.#wake?.();
    });
    this.closed = new Promise((resolve) => {
      socket.once("close", (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        this.#wake?.();
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

  send(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  /** The next message not read yet. */
  async next(): Promise<string | Uint8Array> {
    await this.receive(this.#read + 1);
    return this.messages[this.#read++] as string | Uint8Array;
  }

  /** The next message, as text. */
  async nextText(): Promise<string> {
    const message = await this.next();
    if (typeof message !== "string") throw new Error("expected a text message, got binary");
    return message;
  }

  /** Reads messages until one satisfies `match`, and returns it. */
  async nextUntil(match: (message: string) => boolean): Promise<string> {
    for (;;) {
      const message = await this.nextText();
      if (match(message)) return message;
    }
  }

  /** Resolves once `count` messages have arrived in total; rejects if the socket closes first. */
  receive(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.messages.length >= count) {
          this.#wake = undefined;
          resolve();
        } else if (this.socket.readyState === WebSocket.CLOSED) {
          this.#wake = undefined;
          reject(new Error(`closed after ${this.messages.length} of ${count} messages`));
        }
      };
      this.#wake = check;
      check();
    });
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
}
