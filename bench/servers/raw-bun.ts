/**
 * The raw Bun baseline: `Bun.serve` with native publish, as a user would write it
 * without polysocket. Echo for `?echo`; for a topic plan (`?topic=…`), `ws.subscribe`
 * and `server.publish` to the plan's topics; otherwise `server.publish` to everyone.
 * `?subs` sockets subscribe to 3 topics each on the runner's `subscribe`
 * (`subscribe N`: N topics of their own each; the rooms scenarios' layout).
 * Same websocket settings as polysocket's adapter (no idle timeout, no pings).
 * `--compression` (BENCH_COMPRESSION=1): Bun's permessage-deflate as polysocket's
 * `compression: true` sets it (the shared compressor and decompressor: no context
 * kept), every send and publish compressed from `ws`'s threshold of 1024 bytes up.
 */
import type { ServerWebSocket } from "bun";
import {
  ready,
  spread,
  type TopicPlan,
  topicPlan,
  topicsOf,
  wantsEcho,
  wantsSubscriptions,
} from "./control.ts";

const TOPIC = "all";
const COMPRESSION = process.env.BENCH_COMPRESSION === "1";
const THRESHOLD = 1024;

/** Whether to ask Bun to compress `message`: with --compression, from the threshold up (UTF-8 bytes). */
function compress(message: string | Uint8Array): boolean {
  if (!COMPRESSION) return false;
  return (typeof message === "string" ? Buffer.byteLength(message) : message.byteLength) >= THRESHOLD;
}

interface Data {
  echo: boolean;
  plan: TopicPlan | undefined;
  subs: boolean;
}

const idle: ServerWebSocket<Data>[] = [];

const server = Bun.serve<Data>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request, server) {
    const url = request.url;
    const data = { echo: wantsEcho(url), plan: topicPlan(url), subs: wantsSubscriptions(url) };
    if (server.upgrade(request, { data })) return undefined;
    return new Response("Upgrade Required", { status: 426 });
  },
  websocket: {
    open(ws) {
      if (ws.data.subs) idle.push(ws);
      if (ws.data.plan) {
        ws.subscribe(ws.data.plan.topic);
        ws.send("subscribed");
      } else if (!ws.data.echo) ws.subscribe(TOPIC);
    },
    message(ws, message) {
      const { echo, plan } = ws.data;
      const deflate = compress(message);
      if (echo) ws.send(message, deflate);
      else if (plan) spread(plan, (topic) => server.publish(topic, message, deflate));
      else server.publish(TOPIC, message, deflate);
    },
    idleTimeout: 0,
    sendPings: false,
    perMessageDeflate: COMPRESSION ? { compress: "shared", decompress: "shared" } : false,
  },
});

ready(server.port ?? 0, {
  subscribe(distinct) {
    for (const [i, ws] of idle.entries()) for (const topic of topicsOf(i, distinct)) ws.subscribe(topic);
    return idle.length * (distinct ?? 3);
  },
});
