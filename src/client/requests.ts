/**
 * A client's requests to the server's `respond` handler (RPC over the same
 * connection): numbered 1, 2, 3… per client, held until the connection is
 * welcomed, answered by the `response` with the same id.
 *
 * A request is never sent twice. Once sent, a lost connection rejects it
 * ("disconnected"): the server may or may not have run the handler, and only
 * the application knows whether running it again is safe. One not sent yet
 * waits for the next connection.
 */
import type { ClientFrame, ServerFrame } from "../core/resume-protocol.ts";
import type { JsonValue } from "../core/rooms/store.ts";
import { Pending, RequestError } from "./pending.ts";

type Response = Extract<ServerFrame, { type: "response" }>;

interface Call {
  readonly frame: ClientFrame;
  readonly answer: Pending<JsonValue | undefined>;
}

/** The requests of one client; see the module documentation. */
export class Requests {
  readonly #write: (frame: ClientFrame) => boolean;
  #next = 1;
  /** Not sent yet (no welcomed connection), by id. */
  readonly #waiting = new Map<number, Call>();
  /** Sent on the current connection and not answered, by id. */
  readonly #sent = new Map<number, Call>();

  /** No requests yet; `write` sends a frame now, or returns false when not welcomed. */
  constructor(write: (frame: ClientFrame) => boolean) {
    this.#write = write;
  }

  /** Requests not answered yet (waiting for a connection, or sent). */
  get size(): number {
    return this.#waiting.size + this.#sent.size;
  }

  /** Sends `data` (now, or once welcomed); settles with the response, or rejects after `timeout` ms. */
  request(data: JsonValue, timeout: number): Promise<JsonValue | undefined> {
    const id = this.#next++;
    const answer = new Pending<JsonValue | undefined>(timeout, () => {
      const sent = this.#sent.delete(id);
      this.#waiting.delete(id);
      return new RequestError(
        "timeout",
        sent
          ? `no response within ${timeout} ms (the handler may have run)`
          : `not sent within ${timeout} ms: no connection`,
      );
    });
    const call = { frame: { type: "request", id, data } as const, answer };
    if (this.#write(call.frame)) this.#sent.set(id, call);
    else this.#waiting.set(id, call);
    return answer.promise;
  }

  /** A connection was welcomed: what waited goes out, in order. */
  welcomed(): void {
    for (const [id, call] of this.#waiting) {
      if (!this.#write(call.frame)) return;
      this.#waiting.delete(id);
      this.#sent.set(id, call);
    }
  }

  /** The connection is gone: what was sent on it is rejected (not resent), what waits keeps waiting. */
  disconnected(): void {
    this.#rejectSent("disconnected", "the connection was lost");
  }

  /** The client closed for good: every request still open is rejected. */
  closed(): void {
    this.#rejectSent("closed", "the client closed");
    for (const call of this.#waiting.values()) {
      call.answer.reject(new RequestError("closed", "not sent: the client closed"));
    }
    this.#waiting.clear();
  }

  #rejectSent(code: "disconnected" | "closed", what: string): void {
    const error = `${what} before the response: the server may or may not have run the handler`;
    for (const call of this.#sent.values()) call.answer.reject(new RequestError(code, error));
    this.#sent.clear();
  }

  /** The server's `response`: settles the request with its id (a late or unknown one is ignored). */
  answer(frame: Response): void {
    if (typeof frame.id !== "number") return;
    const call = this.#sent.get(frame.id);
    if (call === undefined) return;
    this.#sent.delete(frame.id);
    if (frame.error !== undefined) call.answer.reject(new RequestError("failed", frame.error));
    else call.answer.resolve(frame.data);
  }
}
