/**
 * What every benchmark server shares: it prints `{"ready":port}` once listening
 * and answers `rss` lines on stdin with `{"rss":bytes,"heap":bytes}` measured
 * after a full GC, so the runner can measure memory from outside without
 * touching the server's port; a `subscribe` line runs the server's
 * `subscribe` command and answers `{"subscribed":count}` (`subscribe N`: N
 * topics of its own per connection; `join N`: N rooms of its own, on a rooms
 * server). It also reads the topic plan a topic-scenario client asks for in its URL.
 */

/**
 * What a server does on a runner's command; returns the subscriptions (or rooms) it made.
 * `distinct`: each connection gets that many topics (rooms) no other connection has;
 * without it, the 3 shared topics of {@link memoryTopics}.
 */
export interface Commands {
  subscribe?: (distinct?: number) => number | Promise<number>;
  join?: (distinct: number) => Promise<number>;
}

/** Tells the runner the server listens on `port`, and starts answering its queries. */
export function ready(port: number, commands: Commands = {}): void {
  console.log(JSON.stringify({ ready: port }));
  let pending = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      const [command, count] = line.split(" ");
      if (command === "rss") void reportRss();
      if (command === "subscribe" || command === "join") void answer(commands, command, count);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  });
  // The runner holds stdin open; if it dies (Ctrl-C), the server goes too instead of lingering.
  process.stdin.on("end", () => process.exit(0));
}

/** Runs `command` with its count (if any) and prints `{"subscribed":n}`, n = what it made (0: none). */
async function answer(commands: Commands, command: "subscribe" | "join", count?: string): Promise<void> {
  const distinct = count === undefined ? undefined : Number(count);
  const made =
    command === "join" ? await commands.join?.(distinct ?? 1) : await commands.subscribe?.(distinct);
  console.log(JSON.stringify({ subscribed: made ?? 0 }));
}

async function reportRss(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { rss, heapUsed } = process.memoryUsage();
  console.log(JSON.stringify({ rss, heap: heapUsed }));
}

/** A full GC: `Bun.gc(true)` on Bun, `gc()` on V8 runtimes started with --expose-gc. */
function collectGarbage(): void {
  const global = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (global.Bun) global.Bun.gc(true);
  else global.gc?.();
}

/** Whether a connection asked for echo (`?echo`) rather than chat fan-out. */
export function wantsEcho(url: string): boolean {
  return url.includes("echo");
}

/**
 * A topic-scenario client's plan, from its URL (`?topic=T&topics=N&fan=F`): it
 * subscribes to topic T of N, and each of its messages is published to the next
 * F topics in turn (all servers share one cursor, so messages spread over every
 * topic). Undefined for other clients.
 */
export interface TopicPlan {
  readonly topic: string;
  readonly names: readonly string[];
  readonly fan: number;
}

const topicNames = new Map<number, string[]>();

/** The topic plan in `url`, or undefined if it asks for none. */
export function topicPlan(url: string): TopicPlan | undefined {
  if (!url.includes("topic=")) return undefined; // cheap for the other scenarios' clients
  const query = new URLSearchParams(url.slice(url.indexOf("?") + 1));
  const count = Number(query.get("topics") ?? 1);
  if (!topicNames.has(count))
    topicNames.set(
      count,
      Array.from({ length: count }, (_, t) => `t${t}`),
    );
  const all = topicNames.get(count)!;
  return { topic: all[Number(query.get("topic"))]!, names: all, fan: Number(query.get("fan") ?? 1) };
}

let cursor = 0;

/** Calls `publish` for each of the next `plan.fan` topics, in turn over all of them. */
export function spread(plan: TopicPlan, publish: (topic: string) => void): void {
  const { names, fan } = plan;
  for (let i = 0; i < fan; i++) {
    publish(names[cursor]!);
    cursor = cursor + 1 === names.length ? 0 : cursor + 1;
  }
}

/** Whether a connection is one the runner will subscribe on command (the topic memory scenario). */
export function wantsSubscriptions(url: string): boolean {
  return url.includes("subs");
}

/** The 3 topics of the `index`-th connection in the topic memory scenario: 3 of 1,000, all distinct. */
export function memoryTopics(index: number): [string, string, string] {
  return [`m${index % 1000}`, `m${(index + 333) % 1000}`, `m${(index + 667) % 1000}`];
}

/**
 * The topics (or rooms) of the `index`-th connection on a memory command:
 * `distinct` names of its own (`r<index × distinct + j>`), or without it the 3
 * shared ones of {@link memoryTopics}.
 */
export function topicsOf(index: number, distinct?: number): string[] {
  if (distinct === undefined) return memoryTopics(index);
  return Array.from({ length: distinct }, (_, j) => `r${index * distinct + j}`);
}
