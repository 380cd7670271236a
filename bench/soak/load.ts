/**
 * The load generator, run with Bun (`node_modules/.bin/bun bench/soak/load.ts ...`):
 * Bun's WebSocket client is the fastest one here. One phase per run; JSON lines
 * on stdout (`progress`, then `result`). Every loop is bounded in count and time.
 *
 *   idle   --port P --count N --hold MS       open N connections, hold them MS, then wait
 *                                             for the server to close them (runner's /closeall)
 *   cycles --port P --count N --concurrency C connect, send /bye, server closes; N times
 *   chat   --port P --clients N --rate R --seconds S --size B
 *                                             N clients each send R messages/s of B bytes for S s;
 *                                             every client checks it got every message in order
 */
const [phase = "", ...rest] = process.argv.slice(2);
const args: Record<string, number> = {};
for (let i = 0; i < rest.length; i += 2) args[rest[i]!.replace(/^--/, "")] = Number(rest[i + 1]);
const port = args.port!;
const url = (role: string) => `ws://127.0.0.1:${port}/soak?role=${role}`;
const out = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` holds, or false after `ms`. */
async function until(check: () => boolean, ms: number, step = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(step);
  }
  return true;
}

/** Opens one connection; resolves with it once open, rejects on error/close first. */
function open(role: string, onMessage?: (data: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url(role));
    const timer = setTimeout(() => {
      reject(new Error("connect timeout"));
      ws.close();
    }, 20_000);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error("connect error"));
    };
    if (onMessage) ws.onmessage = (event) => onMessage(event.data as string);
  });
}

async function idle(): Promise<void> {
  const count = args.count!;
  const hold = args.hold!;
  const inFlight = args.concurrency ?? 200;
  const sockets: WebSocket[] = [];
  let failed = 0;
  let closed = 0;
  const codes: Record<string, number> = {};
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        const ws = await open("idle");
        ws.onclose = (event) => {
          closed++;
          codes[event.code] = (codes[event.code] ?? 0) + 1;
        };
        sockets.push(ws);
        if (sockets.length % 1000 === 0) out({ ev: "progress", open: sockets.length });
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const connectMs = performance.now() - t0;
  const closedBeforeHold = closed;
  out({ ev: "connected", open: sockets.length - closed, failed, connectMs: Math.round(connectMs) });
  const holdStart = Date.now();
  while (Date.now() - holdStart < hold) {
    await sleep(Math.min(1000, hold - (Date.now() - holdStart)));
    out({
      ev: "progress",
      holding: Math.round((Date.now() - holdStart) / 1000),
      open: sockets.length - closed,
    });
  }
  out({
    ev: "held",
    open: sockets.length - closed,
    failed,
    closedBeforeHold,
    closedDuringHold: closed - closedBeforeHold,
    connectMs: Math.round(connectMs),
    holdMs: Date.now() - holdStart,
  });
  // The runner now sends /closeall; wait for every socket to see its close.
  const allClosed = await until(() => closed === sockets.length, 60_000, 100);
  out({ ev: "result", phase: "idle", opened: sockets.length, allClosed, codes });
}

async function cycles(): Promise<void> {
  const count = args.count!;
  const concurrency = args.concurrency ?? 50;
  let done = 0;
  let failed = 0;
  let started = 0;
  const codes: Record<string, number> = {};
  const t0 = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url("cycle"));
      const timer = setTimeout(() => {
        failed++;
        ws.close();
        resolve();
      }, 20_000);
      ws.onopen = () => ws.send("/bye");
      ws.onerror = () => undefined;
      ws.onclose = (event) => {
        clearTimeout(timer);
        codes[event.code] = (codes[event.code] ?? 0) + 1;
        if (event.code !== 1000) failed++;
        resolve();
      };
    });
  const worker = async () => {
    while (started < count) {
      started++;
      await one();
      done++;
      if (done % Math.max(100, Math.floor(count / 10)) === 0)
        out({ ev: "progress", cycles: done, ms: Math.round(performance.now() - t0) });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  out({
    ev: "result",
    phase: "cycles",
    cycles: done,
    failed,
    codes,
    ms: Math.round(ms),
    perSecond: Math.round(done / (ms / 1000)),
  });
}

async function chat(): Promise<void> {
  const clients = args.clients!;
  const rate = args.rate!;
  const seconds = args.seconds!;
  const size = args.size ?? 64;
  const perSender = rate * seconds;
  const pad = "x".repeat(size);
  interface Peer {
    ws: WebSocket;
    received: number;
    outOfOrder: number;
    last: Int32Array;
    closedCode?: number;
  }
  const peers: Peer[] = [];
  for (let i = 0; i < clients; i++) {
    const peer: Peer = {
      ws: undefined as unknown as WebSocket,
      received: 0,
      outOfOrder: 0,
      last: new Int32Array(clients).fill(-1),
    };
    peer.ws = await open(`chat&i=${i}`, (data) => {
      const colon = data.indexOf(":");
      const second = data.indexOf(":", colon + 1);
      const from = Number(data.slice(0, colon));
      const seq = Number(data.slice(colon + 1, second));
      if (seq !== peer.last[from]! + 1) peer.outOfOrder++;
      peer.last[from] = seq;
      peer.received++;
    });
    peer.ws.onclose = (event) => {
      peer.closedCode = event.code;
    };
    peers.push(peer);
  }
  out({ ev: "progress", chatters: peers.length });
  // Each client sends on its own steady clock, offset so the load is spread.
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(
    peers.map(async (peer, i) => {
      await sleep((i / clients) * (1000 / rate));
      const start = performance.now();
      for (let seq = 0; seq < perSender; seq++) {
        const due = start + (seq * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (peer.ws.readyState !== WebSocket.OPEN) break;
        peer.ws.send(`${i}:${seq}:${pad}`);
        sent++;
        if (i === 0 && seq % rate === 0 && seq > 0) out({ ev: "progress", second: seq / rate, sent });
      }
    }),
  );
  const sendMs = performance.now() - t0;
  const expected = clients * perSender;
  const complete = await until(
    () => peers.every((p) => p.received >= expected || p.closedCode !== undefined),
    30_000,
    100,
  );
  const drainMs = performance.now() - t0 - sendMs;
  const lost = peers.reduce((sum, p) => sum + Math.max(0, expected - p.received), 0);
  const outOfOrder = peers.reduce((sum, p) => sum + p.outOfOrder, 0);
  const dropped = peers.filter((p) => p.closedCode !== undefined).length;
  out({
    ev: "result",
    phase: "chat",
    clients,
    rate,
    seconds,
    size,
    sent,
    expectedPerClient: expected,
    minReceived: Math.min(...peers.map((p) => p.received)),
    lost,
    outOfOrder,
    chattersDropped: dropped,
    complete,
    sendMs: Math.round(sendMs),
    drainMs: Math.round(drainMs),
  });
  for (const peer of peers) peer.ws.close(1000);
  await until(() => peers.every((p) => p.closedCode !== undefined), 5000);
}

const phases: Record<string, () => Promise<void>> = { idle, cycles, chat };
const run = phases[phase];
if (!run) {
  console.error(`unknown phase ${phase}: idle | cycles | chat`);
  process.exit(2);
}
await run();
process.exit(0);
