/**
 * polysocket/hono, run as a user would run it: one Hono app (examples/hono-app.ts)
 * with a WebSocket echo on /ws behind `cors()` and `jwt()`, started by
 * examples/hono-node.ts (`@hono/node-server` + `attachUpgrades`), hono-bun.ts
 * (`Bun.serve`) and hono-deno.ts (`Deno.serve`), each in its own runtime. The
 * middleware decides every upgrade on every runtime: a valid token upgrades
 * and is echoed, none or a bad one gets jwt()'s 401, with CORS headers.
 */
import { spawnSync } from "node:child_process";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { Server as BunSocketServer } from "../src/adapters/bun/index.ts";
import { Server as DenoSocketServer } from "../src/adapters/deno/index.ts";
import { Server as NodeSocketServer } from "../src/adapters/node/index.ts";
import { type HonoMountable, upgradeWebSocket } from "../src/hono/index.ts";
import { Server as AutoServer } from "../src/index.ts";
import { TestClient } from "./harness/client.ts";
import { WAIT_MS, within } from "./harness/deadline.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { binary, type Runtime } from "./harness/runtimes.ts";

const SECRET = "polysocket-hono-test-secret";
/** The origin the app's cors() allows (ALLOWED_ORIGIN in examples/hono-app.ts). */
const ALLOWED_ORIGIN = "https://app.example";
const BANNER = /^Hono app on http:\/\/localhost:(\d+)\/, WebSocket on ws:\/\/localhost:\1\/ws$/;
const STOP_MS = 10_000;
// A host listening on `::` (Node's and Bun's default) reports an IPv4 peer as IPv4-mapped IPv6.
const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$/;

interface Example {
  runtime: Runtime;
  file: string;
  /** Whether a header the middleware sets reaches the client on the 101 (docs/runtimes.md). */
  middlewareHeadersOn101: boolean;
}

/** Deno 2.6 made the upgrade response's headers mutable (measured on 2.0 to 2.9; 2.5 is the last immutable one). */
function denoHasMutableUpgradeHeaders(): boolean {
  const version = /deno (\d+)\.(\d+)/.exec(
    spawnSync(binary("deno"), ["--version"], { encoding: "utf8" }).stdout,
  );
  if (!version) throw new Error("cannot read `deno --version`");
  return Number(version[1]) > 2 || Number(version[2]) >= 6;
}

const EXAMPLES: Example[] = [
  { runtime: "node", file: "examples/hono-node.ts", middlewareHeadersOn101: false },
  { runtime: "bun", file: "examples/hono-bun.ts", middlewareHeadersOn101: false },
  { runtime: "deno", file: "examples/hono-deno.ts", middlewareHeadersOn101: denoHasMutableUpgradeHeaders() },
];

/** A token jwt() accepts: HS256 with the app's secret, valid for ten minutes. */
const token = (secret = SECRET) =>
  sign({ sub: "user-1", exp: Math.floor(Date.now() / 1000) + 600 }, secret, "HS256");

/** Starts an example on an ephemeral port; resolves with the port from its banner. */
async function start(example: Example, env: Record<string, string> = { JWT_SECRET: SECRET }) {
  const app = new RuntimeProcess(example.runtime, example.file, { PORT: "0", ...env });
  const banner = await app.waitForLine((line) => BANNER.test(line), `${example.file}'s banner`);
  return { app, port: Number(BANNER.exec(banner)![1]) };
}

/** What the server answered to an opening handshake: its status and headers (and body when refused). */
interface Handshake {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one opening handshake and reports the answer, closing the socket if it upgraded. */
function handshake(url: string, headers: Record<string, string>): Promise<Handshake> {
  const socket = new WebSocket(url, { headers });
  const answered = new Promise<Handshake>((resolve, reject) => {
    socket.once("upgrade", (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" });
      socket.once("open", () => socket.terminate());
    });
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk;
      });
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        socket.terminate();
      });
    });
    socket.once("error", reject);
  });
  return within(answered, WAIT_MS, () => `expected an answer to the handshake on ${url}`);
}

describe.each(EXAMPLES.map((e) => [e.file, e.runtime, e] as const))(
  "%s on %s",
  (_file, _runtime, example) => {
    let running: { app: RuntimeProcess; port: number };
    const clients: TestClient[] = [];
    const url = (path = "/ws") => `ws://127.0.0.1:${running.port}${path}`;
    const open = async (headers: Record<string, string>) => {
      const client = await TestClient.open(url(), { headers });
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

    test("the app's route answers; a plain GET on /ws passes jwt() and gets polysocket's 426", async () => {
      const page = await fetch(`http://127.0.0.1:${running.port}/`);
      expect(page.status).toBe(200);
      expect(await page.json()).toEqual({ app: "hono", runtime: example.runtime, websocket: "/ws" });
      const plain = await fetch(`http://127.0.0.1:${running.port}/ws`, {
        headers: { authorization: `Bearer ${await token()}` },
      });
      expect(plain.status, "a plain GET on /ws with a valid token").toBe(426);
      const anonymous = await fetch(`http://127.0.0.1:${running.port}/ws`);
      expect(anonymous.status, "a plain GET on /ws without a token").toBe(401);
    });

    test("an upgrade with a valid token gets past cors() and jwt(), and is echoed in order", async () => {
      const client = await open({ authorization: `Bearer ${await token()}`, origin: ALLOWED_ORIGIN });
      for (const message of ["hello", "", "héllo ✓ 🚀"]) client.send(message);
      expect([await client.nextText(), await client.nextText(), await client.nextText()]).toEqual([
        "hello",
        "",
        "héllo ✓ 🚀",
      ]);
      client.send("/whoami");
      const whoami = JSON.parse(await client.nextText());
      expect(whoami.remoteAddress, "the real peer address").toMatch(LOOPBACK);
      expect(whoami.id).toMatch(/^\S{8,}$/);
    });

    test.each([
      ["no token", async () => undefined],
      ["a token signed with another secret", async () => `Bearer ${await token("other-secret")}`],
      ["a malformed token", async () => "Bearer not.a.jwt"],
    ])("an upgrade with %s gets jwt()'s 401, with cors()'s header, and no connection", async (what, auth) => {
      const authorization = await auth();
      const headers: Record<string, string> = { origin: ALLOWED_ORIGIN };
      if (authorization) headers.authorization = authorization;
      const answer = await handshake(url(), headers);
      expect(answer.status, `the answer to an upgrade with ${what}`).toBe(401);
      expect(answer.headers["access-control-allow-origin"], "cors() ran before jwt() refused").toBe(
        ALLOWED_ORIGIN,
      );
      expect(answer.body, "jwt()'s own body").toBe("Unauthorized");
    });

    test("an upgrade on a path the app has no route for gets Hono's 404", async () => {
      const answer = await handshake(url("/elsewhere"), { authorization: `Bearer ${await token()}` });
      expect(answer.status).toBe(404);
    });

    test(`a header cors() sets reaches the 101 on ${example.runtime}: ${example.middlewareHeadersOn101}`, async () => {
      const answer = await handshake(url(), {
        authorization: `Bearer ${await token()}`,
        origin: ALLOWED_ORIGIN,
      });
      expect(answer.status).toBe(101);
      const expected = example.middlewareHeadersOn101 ? ALLOWED_ORIGIN : undefined;
      expect(answer.headers["access-control-allow-origin"], "Access-Control-Allow-Origin on the 101").toBe(
        expected,
      );
    });

    test("SIGTERM: WebSocket clients get 1001, then the process exits 0", async () => {
      const own = await start(example);
      try {
        const client = await TestClient.open(`ws://127.0.0.1:${own.port}/ws`, {
          headers: { authorization: `Bearer ${await token()}` },
        });
        client.send("ping");
        expect(await client.nextText()).toBe("ping");
        own.app.signal("SIGTERM");
        expect(await client.closedWithin(STOP_MS), "the close the client got").toEqual({
          code: 1001,
          reason: "server shutting down",
        });
        const exit = within(
          own.app.finished(),
          STOP_MS,
          () => `expected ${example.file} to exit after SIGTERM`,
        );
        expect(await exit).toBe(0);
      } finally {
        await own.app.stop("SIGKILL");
      }
    });

    test("without JWT_SECRET: one line on stderr, exit 1, no banner", async () => {
      const app = new RuntimeProcess(example.runtime, example.file, { PORT: "0", JWT_SECRET: "" });
      try {
        const exit = within(
          app.finished(),
          STOP_MS * 2,
          () => `expected ${example.file} to exit without a secret`,
        );
        expect(await exit).toBe(1);
        expect(app.stderr).toMatch(/^Hono app not started: set JWT_SECRET[^\n]*\n$/);
        expect(app.lines).toEqual([]);
      } finally {
        await app.stop("SIGKILL");
      }
    });
  },
);

describe("upgradeWebSocket, given the wrong thing", () => {
  test.each([
    ["the runtime-picking polysocket Server", () => new AutoServer({ path: "/ws" })],
    ["a plain object", () => ({ path: "/ws" })],
    ["undefined", () => undefined],
  ])("%s: TypeError naming the runtime entries", (_what, make) => {
    expect(() => upgradeWebSocket(make() as unknown as HonoMountable)).toThrow(
      new TypeError(
        "upgradeWebSocket(server): expected a Server from polysocket/bun, polysocket/deno or polysocket/node " +
          "(the runtime-picking `polysocket` entry cannot be mounted)",
      ),
    );
  });

  test.each([
    ["node", () => new NodeSocketServer({ path: "/ws" }), /@hono\/node-server's bindings/],
    ["bun", () => new BunSocketServer({ path: "/ws" }), /not the Bun server; serve the app with Bun\.serve/],
    [
      "deno",
      () => new DenoSocketServer({ path: "/ws" }),
      /not Deno\.serve's info; serve the app with Deno\.serve/,
    ],
  ])(
    "a %s handler called with a c.env that is not that runtime's: TypeError saying how to serve",
    (_runtime, make, message) => {
      const handler = upgradeWebSocket(make());
      const c = { req: { raw: new Request("http://127.0.0.1/ws") }, env: {} };
      expect(() => handler(c)).toThrow(TypeError);
      expect(() => handler(c)).toThrow(message);
    },
  );
});
