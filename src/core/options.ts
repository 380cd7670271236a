/**
 * Server options and hooks, and their validation at construction time.
 */
import type { Connection } from "./connection.ts";
import type { RequestHandler } from "./http.ts";

/** Why and how a connection ended, as passed to `onDisconnect`. */
export interface CloseInfo {
  /** Close code: the one sent by whoever closed first, or 1006 when the peer vanished. */
  readonly code: number;
  /** Close reason text (may be empty). */
  readonly reason: string;
}

/** The user hooks of a server. Every hook may be async; errors go to `onError`. */
export interface ServerHooks {
  /** A client finished its handshake. Runs (and settles) before any `onMessage` of it. */
  onConnect?: (conn: Connection) => void | Promise<void>;
  /** A text message arrived. */
  onMessage?: (conn: Connection, message: string) => void | Promise<void>;
  /** A binary message arrived. Without this hook, binary messages close the connection with 1003. */
  onBinary?: (conn: Connection, data: Uint8Array) => void | Promise<void>;
  /** The connection is gone. Runs exactly once per connection, however it ended. */
  onDisconnect?: (conn: Connection, info: CloseInfo) => void | Promise<void>;
  /** A hook threw, or a socket failed. Without it, errors are printed with `console.error`. */
  onError?: (error: Error, conn?: Connection) => void;
}

/** Options of a {@link BaseServer}. */
export interface ServerOptions extends ServerHooks {
  /** TCP port, 0..65535. 0 (the default) picks a free port, readable after `listen()`. */
  port?: number;
  /** Interface to bind. Default `"0.0.0.0"`. */
  hostname?: string;
  /** The only path that accepts WebSocket upgrades. Default `"/"`. */
  path?: string;
  /**
   * Answers plain HTTP requests (anything but a WebSocket upgrade) on the same port.
   * Return `undefined` to keep polysocket's answer: 426 on `path`, 404 elsewhere.
   * A throw or rejection goes to `onError` and the client gets 500.
   */
  onRequest?: RequestHandler;
}

/** Options after validation, with every default applied. */
export interface ResolvedOptions extends ServerHooks {
  readonly onRequest?: RequestHandler;
  readonly port: number;
  readonly hostname: string;
  readonly path: string;
}

const HOOKS = ["onConnect", "onMessage", "onBinary", "onDisconnect", "onError", "onRequest"] as const;

/** Validates options and applies defaults; throws `TypeError` naming the bad option. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const { port = 0, hostname = "0.0.0.0", path = "/" } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`options.port must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`options.hostname must be a non-empty string, got ${describe(hostname)}`);
  }
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`options.path must be a string starting with "/", got ${describe(path)}`);
  }
  for (const name of HOOKS) {
    const hook = options[name];
    if (hook !== undefined && typeof hook !== "function") {
      throw new TypeError(`options.${name} must be a function, got ${describe(hook)}`);
    }
  }
  return { ...options, port, hostname, path };
}

/** A short, exact description of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  if (typeof value === "function") return "a function";
  return `${typeof value} ${String(value)}`;
}
