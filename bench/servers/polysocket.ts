/**
 * The polysocket benchmark server, the same file on every runtime. Connections
 * with `?echo` in their URL get every message back; those with a topic plan
 * (`?topic=…`, see `topicPlan`) subscribe to their topic, are told so with one
 * message, and each message they send is published (`server.publish`) to the
 * plan's next topics; the others are a chat room: every text message is
 * broadcast to everyone, the sender included. Connections with `?subs` are
 * subscribed to 3 topics each when the runner says `subscribe`.
 * `POLYSOCKET_ADAPTER=node` pins the Node adapter (used to run it on Deno's Node layer).
 * Connections keep no upgrade headers, as in the raw servers, unless
 * `POLYSOCKET_KEEP_HEADERS=1` (`--keep-headers`) asks for polysocket's default.
 * `BENCH_COMPRESSION=1` (`--compression`) turns compression on (`compression: true`).
 * `BENCH_METRICS=1` (bench/metrics.ts) turns Prometheus metrics on, scraped at GET /metrics.
 */
import type { Connection } from "polysocket";
import {
  memoryTopics,
  ready,
  spread,
  type TopicPlan,
  topicPlan,
  wantsEcho,
  wantsSubscriptions,
} from "./control.ts";

const { Server } =
  process.env.POLYSOCKET_ADAPTER === "node" ? await import("polysocket/node") : await import("polysocket");

/** What a connection is for: echo, a topic plan, or (undefined) the chat room. */
type Role = "echo" | TopicPlan | undefined;

/** Prometheus metrics, only when asked for (the module is not even loaded otherwise). */
const metrics =
  process.env.BENCH_METRICS === "1" ? (await import("polysocket/metrics")).prometheusMetrics() : undefined;

/** Connections waiting for the runner's `subscribe`. */
const idle: Connection[] = [];

const server = new Server({
  port: 0,
  hostname: "127.0.0.1",
  path: "/",
  keepHeaders: process.env.POLYSOCKET_KEEP_HEADERS === "1",
  compression: process.env.BENCH_COMPRESSION === "1", // --compression
  metrics: metrics?.observer,
  onRequest: metrics?.onRequest,
  onConnect(conn) {
    const plan = topicPlan(conn.url);
    conn.data = wantsEcho(conn.url) ? "echo" : plan;
    if (wantsSubscriptions(conn.url)) idle.push(conn);
    if (!plan) return;
    conn.subscribe(plan.topic);
    conn.send("subscribed");
  },
  onMessage(conn, message) {
    const role = conn.data as Role;
    if (role === "echo") conn.send(message);
    else if (role) spread(role, (topic) => server.publish(topic, message));
    else server.broadcast(message);
  },
  onBinary(conn, data) {
    conn.send(data);
  },
  onError() {},
});

ready((await server.listen()).port, {
  subscribe() {
    for (const [i, conn] of idle.entries()) for (const topic of memoryTopics(i)) conn.subscribe(topic);
    return idle.length * 3;
  },
});
