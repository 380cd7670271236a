/**
 * Deno adapter: `Deno.serve` for the port, `Deno.upgradeWebSocket` for sockets.
 * It only translates; behaviour lives in the core engine.
 * @see https://docs.deno.com/api/deno/~/Deno.upgradeWebSocket
 */
import type { Adapter, Engine, Listener, Transport, UpgradeRequest } from "../../core/adapter.ts";
import type { Connection } from "../../core/connection.ts";
import { headerRecord, wantsWebSocket } from "../../core/headers.ts";
import { pathAndQuery } from "../../core/url.ts";
import type { DenoGlobal, DenoServeInfo, DenoSocket } from "./types.ts";

/** The Deno binding of polysocket. */
export const denoAdapter: Adapter = { runtime: "deno", listen };

async function listen(engine: Engine): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  const options = { port: engine.port, hostname: engine.hostname, onListen() {} };
  const server = deno.serve(options, (req, info) => {
    const request = toRequest(req, info);
    const decision = engine.route(request);
    if (!decision.upgrade) {
      return new Response(decision.body, { status: decision.status, headers: decision.headers });
    }
    // idleTimeout 0: no ping policy of Deno's own; the core decides.
    const { socket, response } = deno.upgradeWebSocket(req, { idleTimeout: 0 });
    bind(engine, socket, request);
    return response;
  });
  return { port: server.addr.port ?? engine.port, stop: () => server.shutdown() };
}

function bind(engine: Engine, socket: DenoSocket, request: UpgradeRequest): void {
  socket.binaryType = "arraybuffer";
  let conn: Connection | undefined;
  socket.onopen = () => {
    conn = engine.open(transport(socket), request);
  };
  socket.onmessage = (event) => {
    const { data } = event;
    if (conn) engine.message(conn, typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  };
  socket.onclose = (event) => {
    if (conn) engine.closed(conn, event.code, event.reason);
  };
  socket.onerror = (event) => {
    engine.error((event as ErrorEvent).error ?? (event as ErrorEvent).message, conn);
  };
}

function transport(socket: DenoSocket): Transport {
  return new SocketTransport(socket);
}

/** A class, not an object of closures: one small object per connection (idle memory counts). */
class SocketTransport implements Transport {
  readonly #socket: DenoSocket;
  constructor(socket: DenoSocket) {
    this.#socket = socket;
  }
  get readyState(): number {
    return this.#socket.readyState;
  }
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
  send(data: string | Uint8Array): void {
    this.#socket.send(data);
  }
  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }
  /** Deno has no way to drop a socket without a handshake; closing is the closest. */
  terminate(): void {
    this.#socket.close(1001, "terminated");
  }
}

function toRequest(req: Request, info: DenoServeInfo): UpgradeRequest {
  const headers = headerRecord(headerEntries(req.headers));
  return {
    method: req.method,
    url: pathAndQuery(req.url),
    headers,
    upgrade: wantsWebSocket(req.method, headers),
    remoteAddress: info.remoteAddr.hostname ?? "",
  };
}

/** Deno's Headers iterator is ~7x slower than its forEach (measured), and this runs per upgrade. */
function headerEntries(headers: Headers): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  headers.forEach((value, name) => {
    entries.push([name, value]);
  });
  return entries;
}
