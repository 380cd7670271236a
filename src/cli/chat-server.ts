/**
 * The chat server of the specification as one function call: what the
 * `polysocket chat` command runs, usable from code as well. It serves the chat
 * page (src/page/) on the same port.
 */
import { ChatRoom, Server } from "../index.ts";
import { chatPageHandler } from "../page/handler.ts";
import { chatPageScript } from "../page/script.ts";

/** Options of {@link startChatServer}. */
export interface ChatServerOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to bind. Default "0.0.0.0". */
  hostname?: string;
  /** The WebSocket path. Default "/chat". */
  path?: string;
  /** Messages replayed to newcomers. Default 1000. */
  historyLimit?: number;
  /**
   * Redis URL: the room lives in Redis (`polysocket/redis`, needs the `ioredis`
   * package) and every server started with the same URL serves it. Default: in memory.
   */
  redis?: string;
  /** Name of the room in Redis (with `redis`). Default "chat". */
  room?: string;
  /** Where hook and socket errors go. Default `console.error`. */
  onError?: (error: unknown) => void;
}

/** A running chat server. */
export interface ChatServer {
  /** Where clients connect, e.g. `ws://localhost:8080/chat`. */
  readonly url: string;
  /** Where browsers open the chat page, e.g. `http://localhost:8080/`. */
  readonly pageUrl: string;
  /** The real port (also when 0 was asked for). */
  readonly port: number;
  /** The room every client joins. */
  readonly room: ChatRoom;
  /** Closes every client with 1001, releases the port and detaches from Redis. */
  close(): Promise<void>;
}

/**
 * Starts the chat server on the running runtime: join and leave notices,
 * `User {id}: {message}` broadcasts, bounded history replayed once to newcomers,
 * invalid messages (empty, over 2,000 characters, control characters) refused to their sender.
 * Plain HTTP gets the chat page: `/` (HTML) and `/app.js` (its script, using `polysocket/client`).
 *
 * @example
 * ```ts
 * const chat = await startChatServer({ port: 0 });
 * console.log(`chat on ${chat.url}, page on ${chat.pageUrl}`);
 * await chat.close();
 * ```
 */
export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const { port = 8080, hostname, path = "/chat", historyLimit, onError = console.error } = options;
  const room = options.redis
    ? await redisRoom(options.redis, options.room, historyLimit, onError)
    : new ChatRoom({ historyLimit });
  const page = chatPageHandler(await chatPageScript(), path);
  const server = new Server({
    port,
    hostname,
    path,
    validate: (conn, message) => room.validate(conn, message),
    onConnect: (conn) => room.addClient(conn),
    onMessage(conn, raw) {
      const message = room.receive(conn, raw);
      if (message === undefined) return;
      room.publish(`User ${conn.id}: ${message}`).catch((error) => {
        onError(error);
        room.notify(conn, `Message not delivered: ${(error as Error).message}`);
      });
    },
    onDisconnect: (conn) => room.removeClient(conn),
    onError: (error) => onError(error),
    onRequest: page,
  });
  let listening: Awaited<ReturnType<Server["listen"]>>;
  try {
    listening = await server.listen();
  } catch (error) {
    await room.close();
    throw error;
  }
  return {
    url: `ws://localhost:${listening.port}${path}`,
    pageUrl: `http://localhost:${listening.port}/`,
    port: listening.port,
    room,
    close: async () => {
      await server.close();
      await room.close();
    },
  };
}

/** Loaded on demand: the in-memory server never needs `ioredis`. */
async function redisRoom(
  url: string,
  room: string | undefined,
  historyLimit: number | undefined,
  onError: (error: unknown) => void,
): Promise<ChatRoom> {
  let module: typeof import("../redis/index.ts");
  try {
    module = await import("../redis/index.ts");
  } catch (error) {
    throw new Error(`--redis needs the ioredis package (npm install ioredis): ${(error as Error).message}`);
  }
  return module.redisChatRoom({ url, room, historyLimit, onError, redis: { maxRetriesPerRequest: 2 } });
}
