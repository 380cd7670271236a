/**
 * A TCP proxy on 127.0.0.1 in front of a server: `cut()` destroys every
 * connection through it (a network drop: no close frame), `hold` refuses new
 * ones until released, and `target` may change between connections (the next
 * one reaches another process), or `route` picks one per connection. `stall`
 * holds what servers send (a client's frames still go through: its server got
 * them, the answers do not come back). Used to make real clients reconnect.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class CutProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** While true, new connections are dropped at once. */
  hold = false;
  /** The port new connections are piped to. */
  target: number;
  /** When set, picks the port of each new connection instead of `target`. */
  route: (() => number) | undefined;
  /** Connections made through the proxy so far. */
  connections = 0;
  /** Bytes passed from clients to servers so far. */
  forwarded = 0;
  #stalled = false;
  /** Server-to-client bytes held while stalled, per client socket. */
  readonly #held = new Map<Socket, Buffer[]>();

  private constructor(server: Server, target: number) {
    this.#server = server;
    this.target = target;
  }

  /** A proxy to `targetPort`, listening on a free port. */
  static async start(targetPort: number): Promise<CutProxy> {
    const server = createServer();
    const proxy = new CutProxy(server, targetPort);
    server.on("connection", (client) => proxy.#pipe(client, proxy.route?.() ?? proxy.target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Drops every connection through the proxy now (and whatever `stall` held); returns how many. */
  cut(): number {
    const cut = Math.ceil(this.#sockets.size / 2); // each connection: a client socket and an upstream one
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#held.clear();
    return cut;
  }

  /** Holds (true) or passes on again (false, releasing what was held) the bytes servers send. */
  stall(on: boolean): void {
    this.#stalled = on;
    if (on) return;
    for (const [client, chunks] of this.#held) for (const chunk of chunks) client.write(chunk);
    this.#held.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, targetPort: number): void {
    if (this.hold) return void client.destroy();
    this.connections++;
    const upstream = createConnection(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      this.forwarded += chunk.length;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!this.#stalled) return void client.write(chunk);
      this.#held.set(client, [...(this.#held.get(client) ?? []), chunk]);
    });
  }
}
