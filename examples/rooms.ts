/**
 * A multi-room chat with nicknames and token auth, on `Rooms`. The same file
 * runs on Node (`npm run rooms`), Bun (`npm run rooms:bun`) and Deno
 * (`npm run rooms:deno`). The chat page at / (`?token=alice-token`) joins
 * "lobby" and "random" and any room you name; every room keeps its own
 * numbered history, resumed exactly once after a reconnect.
 *
 * - Auth at the upgrade: `?token=` must be one of TOKENS, or the connection is
 *   closed at once with 4401 (a close code browsers can see; polysocket/client
 *   does not retry it). The nickname goes into `conn.data`.
 * - Presence shows `{ id, nick }`; joins and leaves are stored as messages.
 * - A publish must be text (1 to 2,000 characters); it is stored as `{ from, text }`.
 * - The "staff" room is carol's alone (a refused join says why).
 *
 * With REDIS_URL set, the rooms live in Redis (`polysocket/redis`, needs the
 * `ioredis` package): run it as many times as you like, on any runtime, and
 * every process serves the same rooms; a client resumes on whichever it reaches.
 * Without it, the rooms are in memory.
 */
import { type Connection, Rooms, type RoomsOptions, Server } from "polysocket";
// The chat page's factory; from the sources it bundles the page's script with esbuild at start.
import { chatPage } from "polysocket/page";

/** The demo's accounts, token → nickname. A real application checks a session or a signed token here. */
const TOKENS: Readonly<Record<string, string>> = {
  "alice-token": "alice",
  "bob-token": "bob",
  "carol-token": "carol",
};
const nick = (conn: Connection): string => (conn.data as { nick: string }).nick;
const nickOf = (info: unknown): string => (info as { nick?: string }).nick ?? "someone";

const options: RoomsOptions = {
  historyLimit: Number(process.env.HISTORY_LIMIT ?? 1000),
  presence: (conn) => ({ id: conn.id, nick: nick(conn) }),
  joinNotice: (member, room) => `${nickOf(member.info)} joined ${room}`,
  leaveNotice: (member, room) => `${nickOf(member.info)} left ${room}`,
  canJoin: (conn, room) => (room !== "staff" || nick(conn) === "carol" ? true : "staff only"),
  onPublish(conn, _room, data) {
    if (typeof data !== "string") throw new Error("messages are text");
    if (data.trim() === "" || data.length > 2000) throw new Error("messages are 1 to 2000 characters");
    return { from: nick(conn), text: data };
  },
  onError: (error) => console.error(error),
};

// With REDIS_URL, every process started on that Redis serves the same rooms; a
// Redis that cannot be reached is one line and exit code 1.
const redisUrl = process.env.REDIS_URL;
const rooms: Rooms = redisUrl
  ? await (await import("polysocket/redis"))
      .redisRooms({ url: redisUrl, ...options })
      .catch((error: Error) => {
        console.error(`Rooms server not started: Redis at ${redisUrl}: ${error.message}`);
        process.exit(1);
      })
  : new Rooms(options);

const server = new Server({
  port: Number(process.env.PORT ?? 8080),
  path: "/rooms",

  onUpgrade(request) {
    const token = new URL(request.url, "http://localhost").searchParams.get("token") ?? "";
    const name = Object.hasOwn(TOKENS, token) ? TOKENS[token] : undefined;
    if (name === undefined) return { status: 401, body: "unknown token", closeCode: 4401 };
    return { data: { nick: name } };
  },
  onConnect: (conn) => rooms.accept(conn),
  // Room frames are handled by `rooms`; anything else (plain text) has no meaning here.
  onMessage: (conn, raw) => void rooms.receive(conn, raw),
  onDisconnect: (conn) => rooms.drop(conn),
  onError: (error) => console.error(error),

  // The chat page in its rooms mode, on the same port.
  onRequest: await chatPage({ path: "/rooms", mode: "rooms", rooms: ["lobby", "random"] }),
});

const { port } = await server.listen().catch(async (error: Error) => {
  console.error(`Rooms server not started: ${error.message}`);
  await rooms.close();
  process.exit(1);
});
console.log(`Rooms chat server started on ws://localhost:${port}/rooms`);
console.log(`Chat page on http://localhost:${port}/?token=alice-token (or bob-token, carol-token)`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close();
  await rooms.close();
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
