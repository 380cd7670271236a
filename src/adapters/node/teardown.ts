/**
 * Closing a `ws` socket once its closing handshake is done.
 *
 * After both close frames, `ws` half-closes the TCP socket (our FIN) and waits for the
 * peer's FIN. Its handlers for that FIN (`socketOnEnd`, then `socketOnClose`) call `end()`
 * on the socket and on its frame parser, both already finished, and Node 20's
 * `Writable.end` builds an error object (message and stack) for each such call, with no
 * one to hand it to: three per connection, about a tenth of a connection's CPU in a
 * connection storm (`perf` of a raw `ws` server and polysocket during a paired connection-rate run).
 *
 * RFC 6455 (7.1.1) has the server close the TCP connection first, so once our FIN is out
 * the socket is closed outright: the peer's FIN is then the kernel's business, and only
 * `socketOnClose` runs. Only after the peer's close frame: a peer sends nothing after it,
 * so nothing unread is left in the socket (closing a socket with unread data sends a
 * reset, which could lose our close frame). Any other ending (an error, a peer that
 * vanished, a server-side close still waiting for its answer) keeps `ws`'s own course.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** The close-handshake state of a `ws` WebSocket (a private field of ws 8). */
interface WsCloseState {
  _closeFrameReceived?: boolean;
}

/** Closes `socket` as soon as `ws` has ended it after a complete closing handshake. */
export function closeAfterHandshake(ws: WebSocket, socket: Duplex): void {
  socket.once("finish", () => {
    if ((ws as unknown as WsCloseState)._closeFrameReceived === true) socket.destroy();
  });
}
