/**
 * The polysocket rooms benchmark server, the same file on every runtime: a
 * `Server` wired to `Rooms` (the in-memory store, its defaults) as the docs
 * wire it. Every connection is accepted into the rooms (`welcome`); one with a
 * topic plan in its URL (`?topic=T…`, see control.ts) is joined to room `tT`
 * at once, and its `publish` frames go through `rooms.receive` like any
 * member's. For the memory scenarios, the runner's `join N` puts each `?subs`
 * connection in N rooms of its own; `subscribe N` subscribes each instead to
 * N topics of its own (`conn.subscribe`), the same layout in topics.
 * `POLYSOCKET_ADAPTER=node`, `POLYSOCKET_KEEP_HEADERS=1` and
 * `BENCH_COMPRESSION=1` as in polysocket.ts.
 */
import type { Connection } from "polysocket";
import { ready, topicPlan, topicsOf, wantsSubscriptions } from "./control.ts";

const { Server, Rooms } =
  process.env.POLYSOCKET_ADAPTER === "node" ? await import("polysocket/node") : await import("polysocket");

const rooms = new Rooms({ onError() {} });

/** Connections waiting for the runner's `join` or `subscribe`. */
const idle: Connection[] = [];

const server = new Server({
  port: 0,
  hostname: "127.0.0.1",
  path: "/",
  keepHeaders: process.env.POLYSOCKET_KEEP_HEADERS === "1",
  compression: process.env.BENCH_COMPRESSION === "1",
  onConnect(conn) {
    rooms.accept(conn);
    if (wantsSubscriptions(conn.url)) idle.push(conn);
    const plan = topicPlan(conn.url);
    if (plan) void rooms.join(conn, plan.topic);
  },
  onMessage(conn, message) {
    rooms.receive(conn, message);
  },
  onDisconnect(conn) {
    rooms.drop(conn);
  },
  onError() {},
});

ready((await server.listen()).port, {
  subscribe(distinct) {
    for (const [i, conn] of idle.entries()) for (const topic of topicsOf(i, distinct)) conn.subscribe(topic);
    return idle.length * (distinct ?? 3);
  },
  async join(distinct) {
    const joins = idle.flatMap((conn, i) => topicsOf(i, distinct).map((name) => rooms.join(conn, name)));
    const joined = (await Promise.all(joins)).filter(Boolean).length;
    // Every join taken, and each room open in this process: rooms.names counts them.
    return joined === joins.length ? rooms.names.length : -joined;
  },
});
