/**
 * A set of connections that receive the same messages, sent once through the
 * runtime's native publish/subscribe where the connection's adapter has one
 * (Bun: one frame for all, written natively), else one `send` per connection.
 * `ChatRoom` delivers through it: on Bun, one `send` per member of a room of 500
 * delivered 11x less per second than one publish.
 */
import type { NativeTopics } from "./adapter.ts";
import type { Connection } from "./connection.ts";
import { randomId } from "./id.ts";

/** Connections reached together; members of one server share one native topic. */
export class Audience {
  /** This audience's topic, unique in the process. */
  readonly #topic = `polysocket:audience:${randomId()}`;
  readonly #members = new Set<Connection>();
  /** Members' servers with native topics, and how many members each has here. */
  readonly #native = new Map<NativeTopics, number>();

  /** Number of members. */
  get size(): number {
    return this.#members.size;
  }

  /** Adds `conn`: it receives every message sent after this. */
  add(conn: Connection): void {
    if (this.#members.has(conn)) return;
    this.#members.add(conn);
    const { transport } = conn;
    const topics = transport.topics;
    if (!topics) return;
    topics.subscribe(transport, this.#topic);
    this.#native.set(topics, (this.#native.get(topics) ?? 0) + 1);
  }

  delete(conn: Connection): void {
    if (!this.#members.delete(conn)) return;
    const { transport } = conn;
    const topics = transport.topics;
    if (!topics) return;
    topics.unsubscribe(transport, this.#topic);
    const left = (this.#native.get(topics) ?? 1) - 1;
    if (left > 0) this.#native.set(topics, left);
    else this.#native.delete(topics);
  }

  /** Sends `message` to every member: one publish per server with native topics, one send for each other member. */
  send(message: string | Uint8Array): void {
    for (const topics of this.#native.keys()) topics.publish(this.#topic, message);
    if (this.#native.size === 0) {
      for (const conn of this.#members) conn.send(message);
      return;
    }
    for (const conn of this.#members) if (!conn.transport.topics) conn.send(message);
  }
}
