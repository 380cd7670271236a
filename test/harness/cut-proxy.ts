/**
 * A TCP proxy on 127.0.0.1 in front of a server: `cut()` destroys every
 * connection through it (a network drop: no close frame), `hold` refuses new
 * ones until released, and `target` may change between connections (the next
 * one reaches another process). Used to make real clients reconnect.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class CutProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** While true, new connections are dropped at once. */
  hold = false;
  /** The port new connections are piped to. */
  target: number;

  private constructor(server: Server, target: number) {
    this.#server = server;
    this.target = target;
  }

  /** A proxy to `targetPort`, listening on a free port. */
  static async start(targetPort: number): Promise<CutProxy> {
    const server = createServer();
    const proxy = new CutProxy(server, targetPort);
    server.on("connection", (client) => proxy.#pipe(client, proxy.target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Drops every connection through the proxy now. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, targetPort: number): void {
    if (this.hold) return void client.destroy();
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
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
