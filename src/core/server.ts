/**
 * `BaseServer`: the public server API, shared by every runtime entry point.
 */
import type { Adapter, Engine, Listener } from "./adapter.ts";
import { Connection, checkTopic, topicKey } from "./connection.ts";
import { ServerEngine } from "./engine.ts";
import { listenError, WebSocketError } from "./errors.ts";
import type { Except } from "./groups.ts";
import { type ResolvedOptions, resolveOptions, type ServerOptions } from "./options.ts";

/** Where a server is listening, as resolved by `listen()`. */
export interface ListenInfo {
  /** The real port, also when 0 was asked for. */
  readonly port: number;
  /** The interface bound. */
  readonly hostname: string;
}

/** Options of {@link BaseServer.broadcast} and {@link BaseServer.publish}. */
export interface BroadcastOptions {
  /** A connection, or several, that must not receive the message (e.g. its sender). */
  except?: Connection | Iterable<Connection>;
}

/** Options of {@link BaseServer.publish}. */
export type PublishOptions = BroadcastOptions;

/** Options of {@link BaseServer.close}. */
export interface CloseOptions {
  /** Milliseconds to wait for clients to answer the close before dropping them. Default 5000. */
  timeout?: number;
}

/** Close code and reason sent to every client when the server shuts down. */
export const SHUTDOWN_CLOSE = { code: 1001, reason: "server shutting down" } as const;

/**
 * A WebSocket server; each runtime entry point (`polysocket/node`, `/bun`, `/deno`,
 * and the auto-detecting `polysocket`) exports a `Server` subclass of it.
 * `Data` types `conn.data` in every hook; `Format` is the `messages` option's
 * type (inferred from it), which types the messages `onMessage` gets.
 */
export abstract class BaseServer<Data = unknown, Format = "text"> {
  readonly #options: ResolvedOptions;
  readonly #engine: ServerEngine;
  #listener: Listener | undefined;
  #starting: Promise<ListenInfo> | undefined;
  #closing: Promise<void> | undefined;
  /** Set once the server is mounted into a host server: what it releases when closed. */
  #mount: { readonly handlers: unknown; readonly release: () => void } | undefined;

  /** Validates `options`; throws `TypeError` naming the first bad one. */
  constructor(options?: ServerOptions<Data, Format>) {
    this.#options = resolveOptions(options);
    this.#engine = new ServerEngine(this.#options);
  }

  /** Loads the runtime binding; implemented by each entry point. */
  protected abstract loadAdapter(): Promise<Adapter>;

  /** The port: the option until `listen()` resolves, the real one after. */
  get port(): number {
    return this.#listener?.port ?? this.#options.port;
  }

  /** The interface the server binds. */
  get hostname(): string {
    return this.#options.hostname;
  }

  /** The path that accepts WebSocket upgrades. */
  get path(): string {
    return this.#options.path;
  }

  /** Open connections by id. A live view: it changes as clients come and go. */
  get connections(): ReadonlyMap<string, Connection<Data>> {
    return this.#engine.connections as ReadonlyMap<string, Connection<Data>>;
  }

  /**
   * Starts accepting connections. Resolves once the port is bound, with the real port.
   * Rejects with `WebSocketError` (`EADDRINUSE` when the port is taken).
   */
  listen(): Promise<ListenInfo> {
    if (this.#starting || this.#closing || this.#mount) {
      const what = this.#mount
        ? "listen() on a server mounted into another"
        : "listen() may be called once per server";
      return Promise.reject(new WebSocketError("ERR_SERVER_STATE", what));
    }
    this.#starting = this.#bind();
    return this.#starting;
  }

  /**
   * The runtime's handlers for mounting this server into a host server (made
   * once, by `make`), instead of `listen()`: the server then owns no port, and
   * `close()` calls `release` and leaves the host running. Throws
   * `WebSocketError` `ERR_SERVER_STATE` after `listen()` or `close()`.
   */
  protected mounted<H>(make: (engine: Engine) => H, release: (handlers: H) => void = () => undefined): H {
    if (this.#mount) return this.#mount.handlers as H;
    if (this.#starting || this.#closing) {
      throw new WebSocketError("ERR_SERVER_STATE", "a server that listens (or closed) cannot be mounted");
    }
    // The host terminates TLS for what it serves: a certificate given here would be ignored.
    if (this.#options.tls) {
      throw new TypeError(
        "options.tls applies to a server of its own (listen()); a mounted server's TLS is its host's",
      );
    }
    const handlers = make(this.#engine);
    this.#mount = { handlers, release: () => release(handlers) };
    this.#engine.start();
    return handlers;
  }

  async #bind(): Promise<ListenInfo> {
    const adapter = await this.loadAdapter();
    try {
      this.#listener = await adapter.listen(this.#engine);
    } catch (error) {
      throw listenError(error, this.#options.hostname, this.#options.port);
    }
    this.#engine.start();
    return { port: this.#listener.port, hostname: this.#options.hostname };
  }

  /**
   * Sends `message` to every open connection but `except`: a publish to the group
   * of everyone. Returns how many connections it was handed to.
   */
  broadcast(message: string | Uint8Array, options: BroadcastOptions = {}): number {
    return this.#engine.groups.publishAll(message, exceptOf(options.except));
  }

  /**
   * Sends `message` (text or binary) to every subscriber of `topic` but `except`,
   * under the same per-connection rules as `send` (state, backpressure). The
   * message is prepared once for all of them. Returns how many connections it
   * was handed to.
   *
   * @example
   * ```ts
   * import { Server } from "polysocket";
   * const server = new Server({
   *   onConnect: (conn) => conn.subscribe("lobby"),
   *   onMessage: (conn, message) => void conn.publish("lobby", message),
   * });
   * server.publish("lobby", "welcome, everyone");
   * ```
   */
  publish(topic: string, message: string | Uint8Array, options: PublishOptions = {}): number {
    checkTopic(topic);
    return this.#engine.groups.publish(topicKey(topic), message, exceptOf(options.except));
  }

  /** How many connections are subscribed to `topic`. */
  subscribers(topic: string): number {
    checkTopic(topic);
    return this.#engine.groups.count(topicKey(topic));
  }

  /**
   * Stops accepting, closes every connection with 1001 "server shutting down",
   * waits for them to go (dropping stragglers after `timeout`), then releases the port.
   * Every `onDisconnect` has run when it resolves. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.timeout ?? 5000);
    return this.#closing;
  }

  async #shutdown(timeout: number): Promise<void> {
    const engine = this.#engine;
    engine.shuttingDown = true;
    await this.#starting?.catch(() => undefined);
    for (const conn of engine.connections.values()) {
      conn.close(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason);
    }
    await withTimeout(engine.settled(), timeout, () => {
      for (const conn of engine.connections.values()) engine.drop(conn);
    });
    engine.stop();
    this.#mount?.release();
    await this.#listener?.stop();
  }
}

/**
 * One connection as itself (no allocation on the common path, and Bun's native
 * publish can leave one socket out), several as a set.
 */
function exceptOf(except: BroadcastOptions["except"]): Except {
  if (except === undefined || except instanceof Connection) return except;
  if (!(Symbol.iterator in Object(except))) {
    throw new TypeError("options.except must be a Connection or an iterable of them");
  }
  const set = new Set(except);
  if (set.size > 1) return set;
  const [only] = set;
  return only;
}

/** Awaits `promise`, or runs `onTimeout` if it is not settled after `ms`. */
async function withTimeout(promise: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
  });
  try {
    await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
