/**
 * The soak server: a chat-like polysocket server that runs unchanged on Node,
 * Bun and Deno. Every text message from a chat client is broadcast to every
 * client (the sender included) except control connections.
 *
 * Clients say who they are in the query string (`/soak?role=...`):
 * - `control`: the runner's probe. `/stats` answers `{ rss, heapUsed, connections, ... }`
 *   measured with `process.memoryUsage()`; `/gc` collects garbage first (Node
 *   `--expose-gc`, `Bun.gc(true)`, Deno `--v8-flags=--expose-gc`); `/closeall`
 *   closes every other connection from the server side (1000).
 * - `cycle`: sends `/bye`, the server closes it (1000), so TIME_WAIT stays server-side.
 * - `slow`: the client that never reads; its disconnect is printed with its code and time.
 * - `mute`: a raw client that never answers pings (the heartbeat's witness); printed likewise.
 * - anything else: a chat client.
 *
 * Env: SOAK_BROADCAST=each sends per connection instead of `server.broadcast`.
 * HEARTBEAT_INTERVAL / HEARTBEAT_TIMEOUT (ms); unset: polysocket's defaults (30 000 / 10 000).
 * Prints JSON lines on stdout: `listening`, `watched-connect`, `watched-disconnect`, `error`.
 */
import { type Connection, Server } from "polysocket";

const log = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
const started = Date.now();

const control = new Set<Connection>();
/** Roles whose connect and disconnect are printed (with code and time). */
const watched = new Set(["slow", "mute"]);
const disconnects: Record<string, number> = {};
let connectsTotal = 0;
let messagesIn = 0;

const role = (conn: Connection) => new URLSearchParams(conn.url.split("?")[1] ?? "").get("role") ?? "chat";

function collect(): string {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) {
    g.Bun.gc(true);
    return "Bun.gc(true)";
  }
  if (typeof g.gc === "function") {
    g.gc();
    g.gc();
    return "gc()";
  }
  return "none";
}

function stats(extra: Record<string, unknown> = {}): string {
  const { rss, heapUsed } = process.memoryUsage();
  const connections = server.connections.size - control.size;
  let slowBuffered: number | undefined;
  const roles: Record<string, number> = {};
  for (const conn of server.connections.values()) {
    roles[conn.data as string] = (roles[conn.data as string] ?? 0) + 1;
    if (conn.data === "slow") slowBuffered = conn.bufferedAmount;
  }
  return JSON.stringify({
    ev: "stats",
    rss,
    heapUsed,
    connections,
    connectsTotal,
    messagesIn,
    disconnects,
    roles,
    slowBuffered,
    ...extra,
  });
}

function command(conn: Connection, message: string): void {
  switch (message) {
    case "/stats":
      conn.send(stats());
      return;
    case "/gc": {
      const how = collect();
      // Let finalizers and freed native buffers settle before measuring.
      setTimeout(() => {
        collect();
        conn.send(stats({ gc: how }));
      }, 200);
      return;
    }
    case "/closeall": {
      let closing = 0;
      for (const other of server.connections.values()) {
        if (control.has(other)) continue;
        other.close(1000, "soak done");
        closing++;
      }
      conn.send(JSON.stringify({ ev: "closing", closing }));
      return;
    }
  }
}

// Without the env, polysocket's own defaults (ping every 30 s, 10 s to answer).
// SOAK_BROADCAST=each: one conn.send per client instead of server.broadcast
// (which is one native publish on Bun).
const sendEach = process.env.SOAK_BROADCAST === "each";
const heartbeat = process.env.HEARTBEAT_INTERVAL
  ? {
      interval: Number(process.env.HEARTBEAT_INTERVAL),
      timeout: Number(process.env.HEARTBEAT_TIMEOUT ?? 5000),
    }
  : undefined;

const server: Server = new Server({
  port: 0,
  hostname: "127.0.0.1",
  path: "/soak",
  heartbeat,
  onConnect(conn) {
    connectsTotal++;
    const who = role(conn);
    conn.data = who;
    if (who === "control") control.add(conn);
    if (watched.has(who)) log({ ev: "watched-connect", role: who, t: Date.now() - started });
  },
  onMessage(conn, message) {
    messagesIn++;
    if (conn.data === "control") return command(conn, message);
    if (conn.data === "cycle") return conn.close(1000, "bye");
    if (!sendEach) return server.broadcast(message, { except: control });
    for (const other of server.connections.values()) if (!control.has(other)) other.send(message);
  },
  onDisconnect(conn, { code, reason, error }) {
    if (conn.data === "control") control.delete(conn);
    disconnects[code] = (disconnects[code] ?? 0) + 1;
    if (watched.has(conn.data as string)) {
      log({
        ev: "watched-disconnect",
        role: conn.data,
        code,
        reason,
        error: error?.code,
        t: Date.now() - started,
      });
    }
  },
  onError(error, conn) {
    const { message, code } = error as Error & { code?: string };
    log({ ev: "error", role: conn?.data, code, message });
  },
});

const { port } = await server.listen();
log({ ev: "listening", port, heartbeat: heartbeat ?? "default", runtime: detectRuntime() });

function detectRuntime(): string {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun ? "bun" : g.Deno ? "deno" : "node";
}

const shutdown = async () => {
  await server.close({ timeout: 2000 });
  process.exit(0);
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
