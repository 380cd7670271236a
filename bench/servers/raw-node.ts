/**
 * The raw Node baseline: a hand-written `ws` server, as a user would write it
 * without polysocket. Echo for `?echo`; for a topic plan (`?topic=…`), a map of
 * topics to sets of sockets and a loop over the set; otherwise a loop that sends
 * to every client. `?subs` connections join 3 topics each on the runner's `subscribe`
 * (`subscribe N`: N topics of their own each; the rooms scenarios' layout).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { ready, spread, topicPlan, topicsOf, wantsEcho, wantsSubscriptions } from "./control.ts";

const http = createServer();
// --compression (BENCH_COMPRESSION=1): ws's permessage-deflate with its defaults (context kept, per socket).
const wss = new WebSocketServer({ server: http, perMessageDeflate: process.env.BENCH_COMPRESSION === "1" });
const topics = new Map<string, Set<WebSocket>>();
const idle: WebSocket[] = [];
/** The topics' member sets each socket is in, so one close listener can leave them all. */
const joined = new Map<WebSocket, Set<WebSocket>[]>();

function subscribe(ws: WebSocket, topic: string): void {
  let members = topics.get(topic);
  if (!members) {
    members = new Set();
    topics.set(topic, members);
  }
  members.add(ws);
  let sets = joined.get(ws);
  if (!sets) {
    sets = [];
    joined.set(ws, sets);
    ws.once("close", () => {
      for (const set of joined.get(ws) ?? []) set.delete(ws);
      joined.delete(ws);
    });
  }
  sets.push(members);
}

wss.on("connection", (ws, request) => {
  const url = request.url ?? "";
  const echo = wantsEcho(url);
  const plan = topicPlan(url);
  if (wantsSubscriptions(url)) idle.push(ws);
  if (plan) {
    subscribe(ws, plan.topic);
    ws.send("subscribed");
  }
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (echo) return ws.send(data, { binary: isBinary });
    if (plan) {
      return spread(plan, (topic) => {
        for (const client of topics.get(topic) ?? []) {
          if (client.readyState === 1) client.send(data, { binary: isBinary });
        }
      });
    }
    for (const client of wss.clients) {
      if (client.readyState === 1) client.send(data, { binary: isBinary });
    }
  });
});

http.listen(0, "127.0.0.1", () =>
  ready((http.address() as AddressInfo).port, {
    subscribe(distinct) {
      for (const [i, ws] of idle.entries()) for (const topic of topicsOf(i, distinct)) subscribe(ws, topic);
      return idle.length * (distinct ?? 3);
    },
  }),
);
