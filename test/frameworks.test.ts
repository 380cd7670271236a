/**
 * The "add polysocket to an existing app" examples, run as a user would run
 * them: Express 5 and Fastify 5 on Node (`attach`), `Bun.serve` on Bun
 * (`upgrade` + `websocket`) and `Deno.serve` on Deno (`handler`). Each serves
 * an app route and a WebSocket echo on /ws from one port; SIGTERM sends 1001 to
 * WebSocket clients and exits 0.
 */
import { createServer, type Server as NetServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { within } from "./harness/deadline.ts";
import { RuntimeProcess } from "./harness/process.ts";
import type { Runtime } from "./harness/runtimes.ts";

interface Example {
  file: string;
  runtime: Runtime;
  /** What the app's own route answers with in `app`. */
  app: string;
  /** A plain GET on /ws: the host's own 404 when it keeps plain requests, polysocket's 426 when it hands them over. */
  plainOnWs: number;
}

const EXAMPLES: Example[] = [
  { file: "examples/express.ts", runtime: "node", app: "express", plainOnWs: 404 },
  { file: "examples/fastify.ts", runtime: "node", app: "fastify", plainOnWs: 404 },
  { file: "examples/bun-serve.ts", runtime: "bun", app: "bun", plainOnWs: 426 },
  { file: "examples/deno-serve.ts", runtime: "deno", app: "deno", plainOnWs: 426 },
];

const BANNER = /^\S+ app on http:\/\/localhost:(\d+)\/, WebSocket on ws:\/\/localhost:\1\/ws$/;
const STOP_MS = 10_000;
// A host listening on `::` (Node's and Bun's default) reports an IPv4 peer as IPv4-mapped IPv6.
const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$/;

/** Starts an example on an ephemeral port; resolves with the port from its banner. */
async function start(example: Example, port = 0): Promise<{ app: RuntimeProcess; port: number }> {
  const app = new RuntimeProcess(example.runtime, example.file, { PORT: String(port) });
  const banner = await app.waitForLine((line) => BANNER.test(line), `${example.file}'s banner`);
  return { app, port: Number(BANNER.exec(banner)![1]) };
}

/** Resolves with the exit code, or rejects naming what was expected after `ms`. */
function exitWithin(app: RuntimeProcess, ms: number, what: string): Promise<number | null> {
  return within(app.finished(), ms, () => `expected ${what} to exit within ${ms} ms\nstderr:\n${app.stderr}`);
}

describe.each(EXAMPLES.map((e) => [e.file, e.runtime, e] as const))(
  "%s on %s",
  (_file, _runtime, example) => {
    let running: { app: RuntimeProcess; port: number };
    const clients: TestClient[] = [];
    const open = async (path = "/ws", headers: Record<string, string> = {}) => {
      const client = await TestClient.open(`ws://127.0.0.1:${running.port}${path}`, { headers });
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      running = await start(example);
    });
    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      await running?.app.stop("SIGKILL");
    });

    test("the app's route and the WebSocket path share one port", async () => {
      const page = await fetch(`http://127.0.0.1:${running.port}/`);
      expect(page.status).toBe(200);
      expect(await page.json()).toEqual({ app: example.app, websocket: "/ws" });
      expect((await fetch(`http://127.0.0.1:${running.port}/ws`)).status, "a plain GET on /ws").toBe(
        example.plainOnWs,
      );
    });

    test("a ws client on /ws is echoed, in order, text and unicode alike", async () => {
      const client = await open();
      for (const message of ["hello", "", "héllo ✓ 🚀"]) client.send(message);
      expect([await client.nextText(), await client.nextText(), await client.nextText()]).toEqual([
        "hello",
        "",
        "héllo ✓ 🚀",
      ]);
    });

    test("the connection has the real peer address and the header onUpgrade kept", async () => {
      const client = await open("/ws", { "x-forwarded-for": "203.0.113.7" });
      client.send("/whoami");
      const whoami = JSON.parse(await client.nextText());
      expect(whoami.remoteAddress).toMatch(LOOPBACK);
      expect(whoami.forwardedFor).toBe("203.0.113.7");
      expect(whoami.id).toMatch(/^\S{8,}$/);
    });

    test("an upgrade on another path gets 404", async () => {
      await expect(open("/elsewhere")).rejects.toMatchObject({ status: 404 });
    });

    test("SIGTERM: WebSocket clients get 1001, then the process exits 0", async () => {
      const own = await start(example);
      try {
        const client = await TestClient.open(`ws://127.0.0.1:${own.port}/ws`);
        client.send("ping");
        expect(await client.nextText()).toBe("ping");
        own.app.signal("SIGTERM");
        const closed = await client.closedWithin(STOP_MS);
        expect(closed, "the close the client got").toEqual({ code: 1001, reason: "server shutting down" });
        expect(await exitWithin(own.app, STOP_MS, `${example.file} after SIGTERM`)).toBe(0);
      } finally {
        await own.app.stop("SIGKILL");
      }
    });
  },
);

describe.each(EXAMPLES.map((e) => [e.file, e.runtime, e] as const))(
  "%s on %s, port taken",
  (_file, _runtime, example) => {
    let blocker: NetServer | undefined;
    afterEach(() => {
      blocker?.close();
    });

    test("says why on stderr and exits 1, printing no banner", async () => {
      blocker = createServer().listen(0, "0.0.0.0");
      await new Promise((resolve) => blocker!.once("listening", resolve));
      const { port } = blocker.address() as { port: number };
      const app = new RuntimeProcess(example.runtime, example.file, { PORT: String(port) });
      try {
        expect(await exitWithin(app, STOP_MS * 2, `${example.file} on a taken port`)).toBe(1);
        expect(app.stderr, "one line on stderr").toMatch(
          /^\S+ app not started: [^\n]*(in use|EADDRINUSE)[^\n]*\n$/i,
        );
        expect(app.lines).toEqual([]);
      } finally {
        await app.stop("SIGKILL");
      }
    });
  },
);
