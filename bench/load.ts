/**
 * The load generator: one Bun program (Bun's WebSocket client is the fastest
 * client here), started once per measurement with a JSON job as its argument.
 * It prints one JSON line: the rate measured in a steady window after a warm-up,
 * and its own CPU use in that window (as a share of one core) so the runner can
 * tell when the generator, not the server, was the limit.
 * The `memory` job opens idle connections, prints `{"ready":true}` and holds
 * them until a line arrives on stdin.
 */
import type { Job, LoadResult } from "./job.ts";

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(url: string, watch?: (ws: WebSocket) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    watch?.(ws);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

/** Opens `count` connections, `batch` at a time (a burst of thousands overflows the accept queue). */
async function connectMany(
  url: string,
  count: number,
  batch = 50,
  urls = [url],
  watch?: (ws: WebSocket) => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  while (sockets.length < count) {
    const n = Math.min(batch, count - sockets.length);
    const at = sockets.length;
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: n }, (_, i) => connect(urls[(at + i) % urls.length]!, watch)),
      )),
    );
  }
  return sockets;
}

/**
 * Fan-out message `n`, distinct per `n`: `size` bytes of padding, or with `json`
 * a chat-like JSON array of about `size` bytes (how compression is measured).
 */
function messageOf(n: number): string {
  if (!job.json) return `${n} `.padEnd(job.size, "x");
  const items: string[] = [];
  let length = 2;
  for (let i = 0; length < job.size; i++) {
    const item = JSON.stringify({
      id: n * 1000 + i,
      user: `user-${(n + i) % 97}`,
      text: `message ${n}.${i}`,
      at: 1_700_000_000_000 + n,
    });
    items.push(item);
    length += item.length + 1;
  }
  return `[${items.join(",")}]`;
}

/** A count down from `n`: `all` resolves at the n-th `tick`. */
function countdown(n: number): { tick: () => void; all: Promise<void> } {
  let resolve = () => {};
  const all = new Promise<void>((done) => {
    resolve = done;
  });
  return {
    tick: () => {
      if (--n === 0) resolve();
    },
    all,
  };
}

/** Lets the load run through a warm-up (until `startAt`, if set), then counts events over the measuring window. */
async function measure(count: () => number): Promise<LoadResult> {
  await sleep(job.startAt === undefined ? job.warmupMs : Math.max(0, job.startAt - Date.now()));
  console.log(JSON.stringify({ window: "start" })); // the runner samples the server's CPU from here
  const start = count();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await sleep(job.measureMs);
  const end = count();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: (end - start) / seconds, cpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

/**
 * K clients; messages go out round-robin from them, at most `window` ahead of the
 * first client (with `urls`: of the slowest server's first client).
 */
async function fanout(): Promise<LoadResult> {
  const room = job.urls ? roomWatch(job.clients) : undefined;
  const clients = await connectMany(job.url, job.clients, 50, job.urls, room?.watch);
  // Distinct messages, as in a real chat: a server may not rely on repeats.
  const message = messageOf;
  // Through Redis: each client's chat messages (not the join notices, which start with "User").
  const counts = job.urls ? clients.map(() => 0) : undefined;
  let delivered = 0;
  let seenByFirst = 0;
  let sent = 0;
  let running = true;
  // Through several processes, the window is measured at the slowest of them (clients 0..n-1, one per process).
  const seen = counts ? () => Math.min(...counts.slice(0, job.urls!.length)) : () => seenByFirst;
  const pump = () => {
    while (running && sent - seen() < job.window) clients[sent % clients.length]!.send(message(sent++));
  };
  // Not before: the first clients' handlers pump, and their join notices would start it early.
  await room?.everyoneIn;
  for (const [i, client] of clients.entries()) {
    client.onmessage = (event) => {
      delivered++;
      if (counts && !(event.data as string).startsWith("User")) counts[i]!++;
      if (i === 0) seenByFirst++;
      if (i < (job.urls?.length ?? 1)) pump();
    };
  }
  pump();
  const result = await measure(() => delivered);
  running = false;
  return counts ? { ...result, incomplete: await incomplete(counts, sent) } : result;
}

/**
 * Through Redis (a chat room): `everyoneIn` resolves once each of the `count`
 * watched clients has had a join notice ("User … joined"). Every member gets its
 * own, so then all are in the room. A client's `open` does not mean the server
 * has run `onConnect` (on Deno it may not have yet): a message sent before would
 * miss that client, and count as missing, though the room lost nothing.
 */
function roomWatch(count: number): { watch: (ws: WebSocket) => void; everyoneIn: Promise<void> } {
  let waiting = count;
  let done = () => {};
  const everyoneIn = new Promise<void>((resolve) => {
    done = resolve;
  });
  const watch = (ws: WebSocket) => {
    const joined = (event: MessageEvent) => {
      if (!String(event.data).startsWith("User")) return;
      ws.removeEventListener("message", joined);
      if (--waiting === 0) done();
    };
    ws.addEventListener("message", joined);
  };
  return { watch, everyoneIn };
}

/** Waits up to 5 s for every client to have all `sent` messages; returns how many still miss some. */
function incomplete(counts: number[], sent: number): Promise<number> {
  const deadline = Date.now() + 5000;
  return new Promise((resolve) => {
    const check = () => {
      const missing = counts.filter((n) => n < sent).length;
      if (missing === 0 || Date.now() > deadline) resolve(missing);
      else setTimeout(check, 50);
    };
    check();
  });
}

/**
 * Topic fan-out: client i subscribes to topic i mod `topics` (its URL says so, and
 * the server confirms with one message); messages go out round-robin from the
 * clients, each published by the server to the next `fan` topics, so each is
 * delivered clients × fan / topics times. At most `window` messages are in flight,
 * counted over all deliveries (no one client sees every message).
 */
async function topicFanout(): Promise<LoadResult> {
  const topics = job.topics ?? 1;
  const fan = job.fan ?? 1;
  const urls = Array.from({ length: topics }, (_, t) => `${job.url}?topic=${t}&topics=${topics}&fan=${fan}`);
  let confirmed = 0;
  let allIn = () => {};
  const everyoneIn = new Promise<void>((resolve) => {
    allIn = resolve;
  });
  const watch = (ws: WebSocket) => {
    ws.onmessage = () => {
      ws.onmessage = null;
      if (++confirmed === job.clients) allIn();
    };
  };
  const clients = await connectMany(job.url, job.clients, 50, urls, watch);
  await everyoneIn;
  const perMessage = (job.clients / topics) * fan;
  const message = messageOf;
  let delivered = 0;
  let sent = 0;
  let running = true;
  const pump = () => {
    while (running && sent - delivered / perMessage < job.window)
      clients[sent % clients.length]!.send(message(sent++));
  };
  for (const client of clients) {
    client.onmessage = () => {
      delivered++;
      pump();
    };
  }
  pump();
  const result = await measure(() => delivered);
  running = false;
  return result;
}

/**
 * Room fan-out, the rooms server's one room (bench/servers/rooms.ts) or a raw
 * server's one topic: every client asks for topic 0 in its URL, then sends
 * `publish` frames of the room protocol round-robin, `size` bytes of data each,
 * at most `window` in flight. A raw server relays the frame text to its topic;
 * the rooms server stores it and delivers a `message` frame. Before measuring,
 * each client must be in (its `joined` frame, or the raw server's `subscribed`),
 * and then have one marker message: frames reach a client in order, so after
 * the marker it gets nothing but messages (the joins' presence frames came before).
 */
async function roomFanout(): Promise<LoadResult> {
  const t0 = performance.now();
  const url = `${job.url}?topic=0&topics=1&fan=1`;
  const frame = (data: string) => `{"type":"publish","room":"t0","data":${JSON.stringify(data)}}`;
  /** Sets each client's handler to wait for its first message matching `match`; resolves once all have. */
  const each = (match: (text: string) => boolean) => {
    const everyone = countdown(job.clients);
    const watch = (ws: WebSocket) => {
      ws.onmessage = (event) => {
        if (!match(String(event.data))) return;
        ws.onmessage = null;
        everyone.tick();
      };
    };
    return { watch, all: everyone.all };
  };
  const joined = each((text) => text === "subscribed" || text.startsWith('{"type":"joined"'));
  const clients = await connectMany(url, job.clients, 50, [url], joined.watch);
  await joined.all;
  const marker = `marker-${Date.now()}`;
  const synced = each((text) => text.includes(marker));
  for (const client of clients) synced.watch(client);
  clients[0]!.send(frame(marker));
  await synced.all;
  const setupMs = performance.now() - t0;
  let delivered = 0;
  let sent = 0;
  let running = true;
  const pump = () => {
    while (running && sent - delivered / job.clients < job.window)
      clients[sent % clients.length]!.send(frame(messageOf(sent++)));
  };
  for (const client of clients) {
    client.onmessage = () => {
      delivered++;
      pump();
    };
  }
  pump();
  const result = await measure(() => delivered);
  running = false;
  return { ...result, setupMs };
}

/** Each client sends, waits for its echo, sends again; `large` is the same with big binary messages. */
async function pingPong(payloadOf: (client: number) => string | Uint8Array): Promise<LoadResult> {
  const clients = await connectMany(`${job.url}?echo`, job.clients);
  let roundTrips = 0;
  let running = true;
  for (const [i, client] of clients.entries()) {
    const payload = payloadOf(i); // distinct per client
    client.onmessage = () => {
      roundTrips++;
      if (running) client.send(payload);
    };
    client.send(payload);
  }
  const result = await measure(() => roundTrips);
  running = false;
  return result;
}

/** `clients` dialers in parallel, each opening a connection, closing it, and dialing again. */
async function connRate(): Promise<LoadResult> {
  let completed = 0;
  let running = true;
  const dial = () => {
    const ws = new WebSocket(job.url);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      ws.close();
    };
    ws.onclose = () => {
      if (opened) completed++; // a refused connection is not a connection
      if (running) dial();
    };
  };
  for (let i = 0; i < job.clients; i++) dial();
  const result = await measure(() => completed);
  running = false;
  return result;
}

/** Opens idle connections and holds them until the runner (which reads the server's RSS) says so. */
async function idle(): Promise<void> {
  const sockets = await connectMany(job.subs ? `${job.url}?subs` : job.url, job.clients);
  console.log(JSON.stringify({ ready: true }));
  for await (const _line of console) break;
  for (const ws of sockets) ws.close();
}

async function main(): Promise<void> {
  switch (job.scenario) {
    case "memory":
      return idle();
    case "fanout":
      return print(await fanout());
    case "topics":
      return print(await topicFanout());
    case "room":
      return print(await roomFanout());
    case "echo":
      return print(await pingPong((i) => `${i} `.padEnd(job.size, "x")));
    case "large": {
      const result = await pingPong((i) => new Uint8Array(job.size).fill(i));
      return print({ ...result, rate: result.rate * job.size });
    }
    case "connrate":
      return print(await connRate());
  }
}

function print(result: LoadResult): void {
  console.log(JSON.stringify(result));
}

await main();
process.exit(0);
