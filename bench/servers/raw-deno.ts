/**
 * The raw Deno baseline: `Deno.serve` + `Deno.upgradeWebSocket`, as a user would
 * write it without polysocket. Echo for `?echo`; for a topic plan (`?topic=…`), a
 * map of topics to sets of sockets and a loop over the set; otherwise a loop over
 * every socket. `?subs` sockets join 3 topics each on the runner's `subscribe`
 * (`subscribe N`: N topics of their own each; the rooms scenarios' layout).
 * Deno's default liveness is kept (idleTimeout 30 s: a ping every 15 s): a user gets
 * it without asking, and polysocket's default heartbeat maps onto the same mechanism
 * (idleTimeout 40 s: a ping every 20 s).
 */
import { ready, spread, topicPlan, topicsOf, wantsEcho, wantsSubscriptions } from "./control.ts";

const sockets = new Set<WebSocket>();
const topics = new Map<string, Set<WebSocket>>();
const idle: WebSocket[] = [];
/** The topics' member sets each socket is in, left when it closes. */
const joined = new Map<WebSocket, Set<WebSocket>[]>();

function subscribe(socket: WebSocket, topic: string): void {
  let members = topics.get(topic);
  if (!members) {
    members = new Set();
    topics.set(topic, members);
  }
  members.add(socket);
  let sets = joined.get(socket);
  if (!sets) {
    sets = [];
    joined.set(socket, sets);
  }
  sets.push(members);
}

function send(members: Iterable<WebSocket>, data: string | ArrayBuffer): void {
  for (const client of members) {
    if (client.readyState === WebSocket.OPEN) client.send(data);
  }
}

const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  const echo = wantsEcho(request.url);
  const plan = topicPlan(request.url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    sockets.add(socket);
    if (wantsSubscriptions(request.url)) idle.push(socket);
    if (!plan) return;
    subscribe(socket, plan.topic);
    socket.send("subscribed");
  };
  socket.onclose = () => {
    sockets.delete(socket);
    for (const set of joined.get(socket) ?? []) set.delete(socket);
    joined.delete(socket);
  };
  socket.onmessage = ({ data }) => {
    if (echo) return socket.send(data);
    if (plan) return spread(plan, (topic) => send(topics.get(topic) ?? [], data));
    send(sockets, data);
  };
  return response;
});

ready(server.addr.port, {
  subscribe(distinct) {
    for (const [i, socket] of idle.entries())
      for (const topic of topicsOf(i, distinct)) subscribe(socket, topic);
    return idle.length * (distinct ?? 3);
  },
});
