/**
 * The seed's chat server, written once against polysocket. The same file runs
 * on Node (`npm run chat`), Bun (`npm run chat:bun`) and Deno (`npm run chat:deno`).
 * Plain WebSocket clients (the seed's browser snippet) speak plain text on
 * /chat; the chat page at / uses `polysocket/client` and resumes after drops.
 * The page is the one `polysocket chat` serves (src/page/), bundled here at start.
 *
 * With REDIS_URL set, the room lives in Redis (`polysocket/redis`): run it as
 * many times as you like, on any runtime, and every process serves one room
 * (CHAT_ROOM names it; default "chat"). Without it, the room is in memory.
 */
import { ChatRoom, Server } from "polysocket";
import { bundleChatPage } from "../src/page/bundle.ts";
import { chatPageHandler } from "../src/page/handler.ts";

const historyLimit = Number(process.env.HISTORY_LIMIT ?? 1000);
const redisUrl = process.env.REDIS_URL;
// A Redis that cannot be reached is one line too, and exit code 1.
const chatRoom = redisUrl
  ? await (await import("polysocket/redis"))
      .redisChatRoom({ url: redisUrl, room: process.env.CHAT_ROOM, historyLimit })
      .catch((error: Error) => {
        console.error(`Chat server not started: Redis at ${redisUrl}: ${error.message}`);
        process.exit(1);
      })
  : new ChatRoom({ historyLimit });

const server = new Server({
  port: Number(process.env.PORT ?? 8080),
  path: "/chat",

  // Non-empty, at most 2,000 characters, no control characters (validateChatMessage,
  // applied to the text inside resumable frames too). A refused message reaches
  // nobody; its sender alone gets "Invalid message: {reason}" (a resumable client
  // as a notice).
  validate: (conn, message) => chatRoom.validate(conn, message),

  // The newcomer gets the earlier history once, then everyone sees the join.
  onConnect(conn) {
    chatRoom.addClient(conn);
  },

  onMessage(conn, raw) {
    // Plain text from plain clients; the resumable protocol's frames unwrapped (pings answered).
    const message = chatRoom.receive(conn, raw);
    if (message === undefined) return;
    // In memory this cannot fail; through Redis, a message Redis did not store is refused to its sender.
    chatRoom.publish(`User ${conn.id}: ${message}`).catch((error) => {
      console.error(error);
      chatRoom.notify(conn, `Message not delivered: ${(error as Error).message}`);
    });
  },

  onDisconnect(conn) {
    chatRoom.removeClient(conn);
  },

  onError(error) {
    console.error(error);
  },

  // The chat page and its script, on the same port.
  onRequest: chatPageHandler(await bundleChatPage()),
});

// A server that cannot start (the port is taken, say) says why in one line and exits 1.
const { port } = await server.listen().catch(async (error: Error) => {
  console.error(`Chat server not started: ${error.message}`);
  await chatRoom.close();
  process.exit(1);
});
console.log(`WebSocket Chat Server started on ws://localhost:${port}/chat`);
console.log(`Chat page on http://localhost:${port}/`);

// Clients get 1001, then the process exits 0. Ctrl-C under `npm run` delivers SIGINT
// twice (from the terminal and from npm): a repeat must not kill the process mid-shutdown.
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close();
  await chatRoom.close();
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
