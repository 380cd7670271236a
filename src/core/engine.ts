/**
 * The engine: every behaviour a server has, written once. Adapters feed it
 * runtime events; it keeps the connection table, orders hooks and routes requests.
 */
import type { Engine, RouteDecision, Transport, UpgradeRequest } from "./adapter.ts";
import { Connection } from "./connection.ts";
import { WebSocketError } from "./errors.ts";
import { callHook, type ErrorSink, errorSink } from "./hooks.ts";
import { answerRequest, type PlainAnswer } from "./http.ts";
import { randomId } from "./id.ts";
import type { ResolvedOptions } from "./options.ts";

const NOT_FOUND: RouteDecision = { upgrade: false, status: 404, body: "Not Found" };
const UPGRADE_REQUIRED: RouteDecision = {
  upgrade: false,
  status: 426,
  body: "Upgrade Required",
  headers: { upgrade: "websocket", connection: "Upgrade" },
};
const SHUTTING_DOWN: RouteDecision = { upgrade: false, status: 503, body: "Server shutting down" };
const ACCEPT: RouteDecision = { upgrade: true };

/** Close code and reason for binary messages on a server without `onBinary`. */
const UNSUPPORTED_BINARY = { code: 1003, reason: "binary messages are not supported" } as const;

/** The runtime-neutral server state machine behind every adapter. */
export class ServerEngine implements Engine {
  readonly port: number;
  readonly hostname: string;
  /** Open connections by id: the live view users read. */
  readonly connections: Map<string, Connection> = new Map();
  /** Set once the server stops accepting. */
  shuttingDown = false;
  readonly #options: ResolvedOptions;
  readonly #report: ErrorSink;
  /** Events held back while a connection's async `onConnect` runs. */
  readonly #held = new Map<Connection, Array<() => void>>();
  #onSettled: (() => void) | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.port = options.port;
    this.hostname = options.hostname;
    this.#report = errorSink(options.onError);
  }

  route(request: UpgradeRequest): RouteDecision {
    const pathname = request.url.split("?", 1)[0];
    if (pathname !== this.#options.path) return NOT_FOUND;
    if (!request.upgrade) return UPGRADE_REQUIRED;
    return this.shuttingDown ? SHUTTING_DOWN : ACCEPT;
  }

  respond(request: Request, route: UpgradeRequest, decision: PlainAnswer): Promise<Response> {
    // Upgrades to another path keep their 404; only plain requests reach onRequest.
    const handler = route.upgrade ? undefined : this.#options.onRequest;
    return answerRequest(handler, request, decision, this.#report);
  }

  open(transport: Transport, request: UpgradeRequest): Connection {
    let id = randomId();
    while (this.connections.has(id)) id = randomId();
    const conn = new Connection(transport, request, id);
    this.connections.set(id, conn);
    const pending = callHook("onConnect", this.#options.onConnect, [conn], this.#report, conn);
    if (pending) this.#holdUntil(conn, pending);
    return conn;
  }

  message(conn: Connection, data: string | Uint8Array): void {
    this.#whenReady(conn, () => this.#deliver(conn, data));
  }

  closed(conn: Connection, code: number, reason: string): void {
    // Bun reports the close synchronously inside `close()`; deferring on every
    // runtime means onDisconnect never runs re-entrantly inside user code.
    queueMicrotask(() => this.#end(conn, code, reason));
  }

  #end(conn: Connection, code: number, reason: string): void {
    if (!conn.markEnded()) return;
    this.connections.delete(conn.id);
    // A code outside the protocol's range (Deno reports 0) means the peer vanished.
    const seen = code >= 1000 ? { code, reason } : { code: 1006, reason: "" };
    // Report the code that ended the connection: ours if we closed first,
    // not what the runtime saw echoed back (Deno reports 1005 for a bare echo).
    const info = conn.closeSent && seen.code !== 1006 ? conn.closeSent : seen;
    this.#whenReady(conn, () => {
      callHook("onDisconnect", this.#options.onDisconnect, [conn, info], this.#report, conn);
      this.#checkSettled();
    });
  }

  error(error: unknown, conn?: Connection): void {
    const text = error instanceof Error ? error.message : String(error);
    this.#report(new WebSocketError("ERR_SOCKET", `socket error: ${text}`, { cause: error }), conn);
  }

  /** Resolves once every connection is gone and every `onDisconnect` has been called. */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.#onSettled = resolve;
      this.#checkSettled();
    });
  }

  #deliver(conn: Connection, data: string | Uint8Array): void {
    const { onMessage, onBinary } = this.#options;
    if (typeof data === "string") {
      callHook("onMessage", onMessage, [conn, data], this.#report, conn);
    } else if (onBinary) {
      callHook("onBinary", onBinary, [conn, data], this.#report, conn);
    } else {
      conn.close(UNSUPPORTED_BINARY.code, UNSUPPORTED_BINARY.reason);
    }
  }

  #holdUntil(conn: Connection, ready: Promise<void>): void {
    const queue: Array<() => void> = [];
    this.#held.set(conn, queue);
    void ready.then(() => {
      this.#held.delete(conn);
      for (const run of queue) run();
      this.#checkSettled();
    });
  }

  #whenReady(conn: Connection, run: () => void): void {
    const queue = this.#held.get(conn);
    if (queue) queue.push(run);
    else run();
  }

  #checkSettled(): void {
    if (this.#onSettled && this.connections.size === 0 && this.#held.size === 0) {
      this.#onSettled();
      this.#onSettled = undefined;
    }
  }
}
