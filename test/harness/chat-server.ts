/**
 * A polysocket chat server in the test process (Node adapter) for the client
 * tests: a real server on loopback that tests can stop, restart on the same
 * port, and make misbehave (close with a code, vanish, go silent).
 */
import { ChatRoom, type ChatRoomOptions, type Connection, Server } from "../../src/adapters/node/index.ts";

export class ChatServer {
  readonly room: ChatRoom;
  /** Connections whose frames are ignored, pings included: a server that hung. */
  readonly muted: Set<Connection> = new Set();
  /** Names (the `who` query parameter) of clients refused with 1012 right after connecting. */
  readonly held: Set<string> = new Set();
  /** The message rule the room's `validate` applies (default: accept everything). */
  validate: (message: string | Uint8Array) => true | string = () => true;
  port = 0;
  #server: Server | undefined;
  #pings = 0;
  readonly #pingWaiters = new Set<() => void>();

  constructor(options: ChatRoomOptions = {}) {
    this.room = new ChatRoom(options);
  }

  /** Listens on `port` (default: the previous one, or a free one). */
  async start(port: number = this.port): Promise<this> {
    const room = this.room;
    this.#server = new Server({
      port,
      hostname: "127.0.0.1",
      path: "/chat",
      validate: (conn, raw) => room.validate(conn, raw, this.validate),
      onConnect: (conn) => {
        if (this.held.has(who(conn))) conn.close(1012, "held by the test");
        else room.addClient(conn);
      },
      onMessage: (conn, raw) => {
        if (this.muted.has(conn)) return;
        if (raw === '{"type":"ping"}') {
          this.#pings++;
          for (const wake of this.#pingWaiters) wake();
        }
        const message = room.receive(conn, raw);
        if (message !== undefined) room.broadcast(`User ${conn.id}: ${message}`);
      },
      onDisconnect: (conn) => room.removeClient(conn),
      onError: () => undefined,
    });
    this.port = (await this.#server.listen()).port;
    return this;
  }

  /** Closes every connection with 1001 and releases the port; the room and its history stay. */
  async stop(): Promise<void> {
    await this.#server?.close({ timeout: 500 });
    this.#server = undefined;
  }

  /** Resolves once the room has received (and answered) `count` heartbeat pings in all; rejects after `ms`. */
  untilPings(count: number, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pingWaiters.delete(check);
        reject(new Error(`expected ${count} pings within ${ms} ms; got ${this.#pings}`));
      }, ms);
      const check = () => {
        if (this.#pings < count) return;
        clearTimeout(timer);
        this.#pingWaiters.delete(check);
        resolve();
      };
      this.#pingWaiters.add(check);
      check();
    });
  }

  url(name: string): string {
    return `ws://127.0.0.1:${this.port}/chat?who=${name}`;
  }

  /** The room member that client `name` is connected as (call it once the client saw "open"). */
  connection(name: string): Connection {
    const conn = [...this.room.clients.values()].find((c) => who(c) === name);
    if (!conn) throw new Error(`${name} is not in the room`);
    return conn;
  }
}

function who(conn: Connection): string {
  return new URL(conn.url, "http://x").searchParams.get("who") ?? "";
}
