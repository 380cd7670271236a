/**
 * Every server example of the docs runs, on every runtime it targets: the code
 * blocks of README.md and docs/*.md and the JSDoc `@example`s of src/** that
 * import polysocket and call `.listen()` (see test/harness/doc-examples.ts for
 * how they are found and classified). Each is written to a temporary file in the
 * project, so `polysocket` resolves as in the repo (tsconfig paths on Node and
 * Bun, deno.json's imports on Deno), started with port 0, and checked with real
 * clients:
 *
 * - chat: a plain `ws` client's message reaches another plain client; then
 *   `polysocket/client` with its defaults (but a 20 ms heartbeat) opens, its
 *   pings reach nobody, its message reaches the plain client as chat text (not
 *   a protocol frame) and comes back to it as a numbered message;
 * - echo: a plain client's text comes back unchanged;
 * - open: a plain client is accepted.
 *
 * Type-checking the same blocks (and all the others) is `npm run check:docs`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { type Client, connect } from "../src/client/index.ts";
import {
  asServerExample,
  docExamples,
  LISTENING,
  runnableSource,
  type ServerExample,
  where,
} from "./harness/doc-examples.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { redisUnavailable, TestRedis } from "./harness/redis.ts";
import { ROOT, type Runtime } from "./harness/runtimes.ts";

const DEADLINE_MS = 5_000;

/** Wakes every wait when something arrives (a message, a client event, a frame sent). */
const waiters = new Set<() => void>();
const changed = () => {
  for (const wake of waiters) wake();
};

/** Resolves with `probe`'s first defined value; rejects after `ms`, naming `what`. */
function waitFor<T>(probe: () => T | undefined, what: () => string, ms = DEADLINE_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`expected ${what()} within ${ms} ms`))), ms);
    const check = () => {
      const value = probe();
      if (value !== undefined) finish(() => resolve(value));
    };
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      waiters.delete(check);
      settle();
    };
    waiters.add(check);
    check();
  });
}

/** Frames the polysocket/client of a test wrote: its socket class is `ws`'s, recording what it sends. */
const written: string[] = [];
class RecordingSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    const send = this.send.bind(this);
    this.send = ((data: string) => {
      written.push(String(data));
      changed();
      send(data);
    }) as WebSocket["send"];
  }
}
// polysocket/client takes the global WebSocket when there is one (and `ws` on Node 20 otherwise).
(globalThis as { WebSocket?: unknown }).WebSocket = RecordingSocket;

/** A plain WebSocket client (no polysocket code) that keeps every text it receives. */
class PlainClient {
  readonly texts: string[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, binary: boolean) => {
      this.texts.push(binary ? `<${data.length} binary bytes>` : data.toString());
      changed();
    });
  }

  static async open(url: string): Promise<PlainClient> {
    const socket = new WebSocket(url);
    const client = new PlainClient(socket);
    const opened = new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", (error) =>
        reject(new Error(`plain client could not open ${url}: ${error.message}`)),
      );
    });
    await Promise.race([
      opened,
      waitFor(
        () => undefined,
        () => `a plain client to open ${url}`,
      ),
    ]);
    return client;
  }

  /** The first text received (so far or later) that satisfies `match`. */
  until(match: (text: string) => boolean, what: string): Promise<string> {
    return waitFor(
      () => this.texts.find(match),
      () => `${what}; it got ${JSON.stringify(this.texts.slice(-8))}`,
    );
  }

  send(text: string): void {
    this.socket.send(text);
  }

  close(): void {
    this.socket.close();
  }
}

type ClientEvent = { type: string; detail: Record<string, unknown> };

/** polysocket/client with its defaults but a fast heartbeat, and every event it emits. */
function resumableClient(url: string): { client: Client; events: ClientEvent[] } {
  const client = connect(url, { heartbeatInterval: 20 });
  const events: ClientEvent[] = [];
  for (const type of ["open", "message", "close", "reconnecting", "error", "notice"] as const) {
    client.on(type, (detail) => {
      const shown = "error" in detail ? { error: detail.error.message } : { ...detail };
      events.push({ type, detail: shown as Record<string, unknown> });
      changed();
    });
  }
  return { client, events };
}

const isPing = (frame: string) => frame.includes('"type":"ping"');

async function checkChat(url: string): Promise<void> {
  const nonce = Math.random().toString(36).slice(2, 8);
  const [a, b] = [await PlainClient.open(url), await PlainClient.open(url)];
  const { client, events } = resumableClient(url);
  const shown = () => `; polysocket/client's events: ${JSON.stringify(events.slice(-8))}`;
  try {
    a.send(`plain ${nonce}`);
    await b.until(
      (t) => t.includes(`plain ${nonce}`),
      `plain client B to get plain client A's "plain ${nonce}"`,
    );

    await waitFor(
      () => events.find((e) => e.type === "open"),
      () => `polysocket/client with its defaults to open${shown()}`,
    );
    client.send(`first ${nonce}`);
    const first = await waitFor(
      () => events.find((e) => e.type === "message" && String(e.detail.data).includes(`first ${nonce}`)),
      () => `polysocket/client to get its own "first ${nonce}" back${shown()}`,
    );
    expect(
      typeof first.detail.seq,
      "polysocket/client with its defaults speaks the resumable protocol with a chat example (numbered messages): does the example's server say `resumable: true`?",
    ).toBe("number");
    await waitFor(
      () => (written.filter(isPing).length >= 2 ? true : undefined),
      () => `polysocket/client to send 2 heartbeat pings (it wrote ${JSON.stringify(written)})${shown()}`,
    );
    // Sent after the pings on the same socket: the pings, were they broadcast, reach B before it.
    client.send(`resumable ${nonce}`);
    const text = await b.until(
      (t) => t.includes(`resumable ${nonce}`),
      `plain client B to get polysocket/client's "resumable ${nonce}"`,
    );
    const pings = b.texts.filter(isPing);
    expect(
      pings,
      `polysocket/client's pings must reach nobody as chat; got ${JSON.stringify(pings)}`,
    ).toEqual([]);
    expect(text, "polysocket/client's message reaches plain clients as chat text").not.toContain('"type"');
    const own = await waitFor(
      () => events.find((e) => e.type === "message" && String(e.detail.data).includes(`resumable ${nonce}`)),
      () => `polysocket/client to get its own "resumable ${nonce}" back${shown()}`,
    );
    expect(own.detail.data, "polysocket/client's own message comes back unwrapped").not.toContain('"type"');
    expect(typeof own.detail.seq, "a numbered message of the resumable protocol").toBe("number");
    expect(events.filter((e) => e.type === "close" || e.type === "notice")).toEqual([]);
  } finally {
    client.close();
    a.close();
    b.close();
  }
}

async function checkEcho(url: string): Promise<void> {
  const client = await PlainClient.open(url);
  try {
    const text = `echo ${Math.random().toString(36).slice(2, 8)}`;
    client.send(text);
    await client.until((t) => t === text, `the server to echo "${text}"`);
  } finally {
    client.close();
  }
}

const examples = docExamples(ROOT);
const servers = examples.flatMap((e) => asServerExample(e) ?? []);
const redisSkip = servers.some((e) => e.redis) ? redisUnavailable() : undefined;
if (redisSkip) console.log(`doc examples with polysocket/redis skipped: ${redisSkip}`);

describe("doc examples", () => {
  let dir: string;
  let redis: TestRedis | undefined;
  let runs = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(ROOT, ".doc-examples-"));
    if (servers.some((e) => e.redis) && !redisSkip) redis = await TestRedis.start();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis?.dispose();
  });

  test("the README, the docs pages and the JSR front pages have server examples, found and classified", () => {
    const found = (file: string) => servers.filter((e) => e.file === file).map((e) => e.check);
    expect(found("README.md")).toEqual(["chat"]);
    expect(found("docs/contract.md")).toEqual(["open", "open"]);
    expect(found("docs/topics.md")).toEqual(["open"]);
    expect(found("docs/operations.md")).toEqual(["echo"]);
    expect(found("docs/migration.md")).toEqual(["chat"]);
    expect(found("src/index.ts")).toEqual(["chat"]);
    expect(found("src/redis/index.ts")).toEqual(["chat"]);
    expect(found("src/adapters/node/index.ts")).toEqual(["echo"]);
  });

  async function run(example: ServerExample, runtime: Runtime): Promise<void> {
    const room = `doc-example-${process.pid}-${++runs}`;
    const file = join(dir, `${example.file.replaceAll("/", "-")}-${example.line}.ts`);
    writeFileSync(file, runnableSource(example, redis && { url: redis.url, room }));
    const server = new RuntimeProcess(runtime, relative(ROOT, file));
    try {
      const line = await server.waitForLine((l) => l.startsWith(LISTENING), `"${LISTENING} <port>"`);
      const url = `ws://127.0.0.1:${line.slice(LISTENING.length).trim()}${example.path}`;
      written.length = 0;
      const check = {
        chat: checkChat,
        echo: checkEcho,
        open: (u: string) => PlainClient.open(u).then((c) => c.close()),
      };
      await check[example.check](url).catch((error: Error) => {
        throw new Error(
          `${where(example)} on ${runtime}: ${error.message}\nserver stderr:\n${server.stderr}`,
        );
      });
    } finally {
      await server.stop();
    }
  }

  for (const example of servers) {
    for (const runtime of example.runtimes) {
      test.skipIf(example.redis && redisSkip !== undefined)(
        `${where(example)} (${example.check} server) runs on ${runtime}`,
        () => run(example, runtime),
      );
    }
  }
});
