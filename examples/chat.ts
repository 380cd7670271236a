/**
 * The seed's chat server, written once against polysocket. The same file runs
 * on Node (`npm run chat`), Bun (`npm run chat:bun`) and Deno (`npm run chat:deno`).
 */
import { ChatRoom, Server, validateChatMessage } from "polysocket";

const chatRoom = new ChatRoom({ historyLimit: Number(process.env.HISTORY_LIMIT ?? 1000) });

const server = new Server({
  port: Number(process.env.PORT ?? 8080),
  path: "/chat",

  // Non-empty, at most 2,000 characters, no control characters. A refused
  // message reaches nobody; its sender alone gets "Invalid message: {reason}".
  validate: (_conn, message) => validateChatMessage(message),

  // The newcomer gets the earlier history once, then everyone sees the join.
  onConnect(conn) {
    chatRoom.addClient(conn);
  },

  onMessage(conn, message) {
    chatRoom.broadcast(`User ${conn.id}: ${message}`);
  },

  onDisconnect(conn) {
    chatRoom.removeClient(conn);
  },

  onError(error) {
    console.error(error);
  },
});

const { port } = await server.listen();
console.log(`WebSocket Chat Server started on ws://localhost:${port}/chat`);

async function shutdown(): Promise<void> {
  await server.close();
  process.exit(0);
}
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
