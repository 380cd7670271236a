/**
 * Consumer tests: the packed npm tarball and the JSR dry-run files, installed
 * outside the repository, run the unchanged examples/chat.ts (and the
 * `polysocket` command) on Node (ESM and CJS), Bun and Deno; real `ws` clients
 * chat with each, and each serves the chat page over plain HTTP. One build and
 * one pack per run. Nothing is skipped: a missing runtime or a failed install
 * fails the suite (only the one Chromium check follows the browser suite's rule).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { distName, entries } from "../../scripts/entries.ts";
import {
  chromiumAvailable,
  launchChromium,
  myId,
  say,
  waitForMessage,
  waitForState,
} from "../harness/browser.ts";
import { TestClient } from "../harness/client.ts";
import { Job } from "../harness/job.ts";
import { RuntimeProcess } from "../harness/process.ts";
import { binary, ROOT, RUNTIMES } from "../harness/runtimes.ts";
import { type Consumers, installConsumers } from "./install.ts";
import { type QuickStart, readmeQuickStart } from "./readme.ts";

const STARTED = /^WebSocket Chat Server started on ws:\/\/localhost:(\d+)\/chat$/;
const NODE = process.execPath;
const CLI = ["chat", "--port", "0"];

let consumers: Consumers;
beforeAll(() => {
  consumers = installConsumers();
}, 240_000);
afterAll(() => {
  if (consumers && !process.env.KEEP_CONSUMERS) rmSync(consumers.root, { recursive: true, force: true });
});

/** One way a user runs polysocket: where, the command line, and whether it serves the chat page. */
interface Way {
  name: string;
  project: "app" | "jsr";
  command: () => [string, string[]];
  page: "bundled at start" | "from the package" | "none";
}

const deno = (args: string[]): [string, string[]] => [binary("deno"), ["run", "-A", ...args]];
const bun = (args: string[]): [string, string[]] => [binary("bun"), args];

const EXAMPLE = "examples/chat.ts";
const BUNDLED = "bundled at start";
const CHAT_SERVERS: Way[] = [
  {
    name: "node, ESM (chat.ts transpiled)",
    project: "app",
    command: () => [NODE, ["examples/chat.mjs"]],
    page: BUNDLED,
  },
  { name: "node, CJS require()", project: "app", command: () => [NODE, ["chat-cjs.cjs"]], page: "none" },
  { name: "bun", project: "app", command: () => bun([EXAMPLE]), page: BUNDLED },
  { name: "deno, npm: specifier", project: "app", command: () => deno([EXAMPLE]), page: BUNDLED },
  {
    name: "deno, JSR package (dry-run files)",
    project: "jsr",
    command: () => deno([EXAMPLE]),
    page: BUNDLED,
  },
  {
    name: "CLI on node (bin)",
    project: "app",
    command: () => [NODE, ["node_modules/.bin/polysocket", ...CLI]],
    page: "from the package",
  },
  {
    name: "CLI on bun",
    project: "app",
    command: () => bun(["node_modules/.bin/polysocket", ...CLI]),
    page: "from the package",
  },
  {
    name: "CLI on deno (npm:polysocket)",
    project: "app",
    command: () => deno(["npm:polysocket", ...CLI]),
    page: "from the package",
  },
];

describe("consumer: the packed package", () => {
  test("the tarball holds the build, the bin and the docs, and no sources or tests", () => {
    const { packed } = consumers;
    const builds = Object.keys(entries).flatMap((subpath) =>
      ["js", "cjs", "d.ts", "d.cts"].map((ext) => `package/dist/${distName(subpath)}.${ext}`),
    );
    const docs = ["package/README.md", "package/LICENSE", "package/CHANGELOG.md"];
    const command = ["package/dist/cli.js", "package/dist/chat-page.js"];
    expect(packed).toEqual(expect.arrayContaining([...builds, ...command, ...docs]));
    expect(packed.filter((f) => /^package\/(src|test|examples|scripts)\//.test(f))).toEqual([]);
  });

  test.each([
    ["node", () => [NODE, ["page-server.mjs"]] as [string, string[]]],
    ["bun", () => bun(["page-server.mjs"])],
  ])(
    "polysocket/page on %s serves the rooms page with the script the package ships (dist/chat-page.js)",
    (_name, command) => {
      const [file, args] = command();
      const run = spawnSync(file, args, { cwd: consumers.app, encoding: "utf8", timeout: 30_000 });
      expect(run.status, `page-server.mjs exited ${run.status}: ${run.stderr}`).toBe(0);
      const { rooms, script } = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
        rooms: boolean;
        script: string;
      };
      expect(rooms, "the page is in rooms mode").toBe(true);
      const shipped = readFileSync(join(consumers.app, "node_modules/polysocket/dist/chat-page.js"), "utf8");
      expect(script === shipped, "app.js is dist/chat-page.js as packed").toBe(true);
    },
  );

  test("tsc type-checks examples/chat.ts and every entry against the published .d.ts (skipLibCheck off)", () => {
    const tsc = spawnSync(NODE, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], {
      cwd: consumers.app,
      encoding: "utf8",
    });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });
});

describe("consumer: each runtime loads its own build", () => {
  const probes: [string, () => [string, string[]], "app" | "jsr", string[], RegExp][] = [
    ["node import", () => [NODE, ["probe.mjs"]], "app", ["nodeAdapter"], /polysocket\/dist\/node\.js$/],
    ["node require", () => [NODE, ["probe.cjs"]], "app", ["nodeAdapter"], /polysocket\/dist\/node\.cjs$/],
    ["bun", () => bun(["probe.mjs"]), "app", ["bunAdapter"], /polysocket\/dist\/bun\.js$/],
    [
      "deno npm:",
      () => deno(["probe.mjs"]),
      "app",
      ["denoAdapter"],
      /app\/node_modules\/polysocket\/dist\/deno\.js$/,
    ],
    // JSR serves the TypeScript sources; "." is the auto-detecting entry.
    ["deno jsr:", () => deno(["probe.mjs"]), "jsr", [], /jsr\/polysocket\/src\/index\.ts$/],
  ];
  test.each(probes)("%s", (_name, command, project, adapters, resolved) => {
    const [bin, args] = command();
    const output = execFileSync(bin, args, { cwd: consumers[project], encoding: "utf8" });
    const probe = JSON.parse(output.trim().split("\n").at(-1)!);
    expect(probe.adapters).toEqual(adapters);
    expect(probe.resolved).toMatch(resolved);
  });
});

describe("consumer: the chat server runs from the package", () => {
  test.each(CHAT_SERVERS)("$name (chat page: $page)", async ({ project, command, page }) => {
    const server = RuntimeProcess.command(command(), consumers[project], { PORT: "0" });
    try {
      const banner = await server.waitForLine((line) => STARTED.test(line), "the start banner");
      const port = STARTED.exec(banner)![1];
      await chat(`ws://127.0.0.1:${port}/chat`);
      if (page !== "none") {
        const script = await chatPage(`http://127.0.0.1:${port}`);
        // The command serves the bundle built into the package; it bundles nothing itself.
        if (page === "from the package") expect(script).toBe(builtPage());
      }
      expect(await server.stop("SIGTERM")).toBe(0);
    } finally {
      await server.stop("SIGKILL");
    }
  });
});

// One runtime (Node) for the real browser: the other two serve the very same bytes (checked above).
// Chromium follows the browser suite's rule: missing fails in CI, is skipped (loudly) elsewhere.
describe("consumer: the chat page of the installed command, in Chromium", () => {
  test("polysocket chat --path /room: two pages connect to /room and talk", async (context) => {
    if (!chromiumAvailable()) return context.skip();
    const command: [string, string[]] = [NODE, ["node_modules/.bin/polysocket", ...CLI, "--path", "/room"]];
    const server = RuntimeProcess.command(command, consumers.app);
    const browser = await launchChromium();
    try {
      const banner = await server.waitForLine((line) => line.startsWith("Chat page on "), "the page banner");
      const url = banner.slice("Chat page on ".length).replace("localhost", "127.0.0.1");
      const open = async () => {
        const page = await (await browser.newContext()).newPage();
        page.setDefaultTimeout(15_000);
        await page.goto(url);
        await waitForState(page, "connected");
        return page;
      };
      const [alice, bob] = [await open(), await open()];
      const aliceId = await myId(alice);
      await say(alice, "hello from the installed command");
      await waitForMessage(bob, `User ${aliceId}: hello from the installed command`);
      expect(await server.stop("SIGTERM")).toBe(0);
    } finally {
      await browser.close();
      await server.stop("SIGKILL");
    }
  });
});

// README.md's quick start, as a new user follows it: its Node commands in an empty directory
// (the packed tarball standing in for `polysocket`), its server.ts, its run command per runtime.
describe("consumer: the README's quick start, in a fresh npm init -y project", () => {
  let quick: QuickStart;
  let project: string;
  beforeAll(() => {
    quick = readmeQuickStart();
    project = join(consumers.root, "quick-start");
    mkdirSync(project);
    for (const step of quick.setup) quickStartStep(step, project);
    writeFileSync(join(project, "server.ts"), onFreePort(quick.server));
  }, 120_000);

  test.each(RUNTIMES)("server.ts runs on %s as the README says, and chats", async (runtime) => {
    const [command, ...args] = quick.run[runtime];
    const launcher = command === "bun" || command === "deno" ? binary(command) : command!;
    // Its own process group: `npx` leaves tsx behind when only npx is signalled.
    const server = new Job(launcher, args, project);
    try {
      const [, port] = await server.waitForLine(
        /^chat on ws:\/\/localhost:(\d+)\/chat$/,
        "the quick start's banner",
      );
      const client = await TestClient.open(`ws://127.0.0.1:${port}/chat`);
      const joined = /^User (\S+) joined the chat$/.exec(await client.nextText());
      expect(joined, "the room's join notice").not.toBeNull();
      client.send("hello from the quick start");
      expect(await client.nextText()).toBe(`User ${joined![1]}: hello from the quick start`);
      await client.close();
    } finally {
      server.killGroup();
    }
  });
});

/** Runs one setup command of the quick start; `npm install polysocket` installs the packed tarball. */
function quickStartStep([command, ...args]: string[], cwd: string): void {
  if (command !== "npm") throw new Error(`the quick start runs "${command}": this test knows npm steps only`);
  const install = args[0] === "install" || args[0] === "i";
  const argv = install
    ? [
        ...args.map((arg) => (arg === "polysocket" ? consumers.tarball : arg)),
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
      ]
    : args;
  execFileSync("npm", argv, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

/** The quick start's server.ts on a free port (it says `port: 8080`; the banner prints the real one). */
function onFreePort(server: string): string {
  const occurrences = server.split("port: 8080,").length - 1;
  if (occurrences !== 1)
    throw new Error(`expected one "port: 8080," in the quick start's server.ts:\n${server}`);
  return server.replace("port: 8080,", "port: 0,");
}

/** The chat page's script, as dist/chat-page.js in the installed package. */
function builtPage(): string {
  return readFileSync(join(consumers.app, "node_modules/polysocket/dist/chat-page.js"), "utf8");
}

/** `/` is the chat page and `/app.js` its script (with polysocket/client bundled in); resolves with the script. */
async function chatPage(origin: string): Promise<string> {
  const html = await fetch(`${origin}/`);
  expect(html.status).toBe(200);
  expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
  const text = await html.text();
  expect(text).toContain("<title>polysocket chat</title>");
  expect(text).toContain('<script type="module" src="/app.js">');
  const script = await fetch(`${origin}/app.js`);
  expect(script.status).toBe(200);
  expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  const code = await script.text();
  expect(code).toContain("heartbeat timeout"); // from polysocket/client
  expect(code).not.toMatch(/^import .* from ["']polysocket/m); // one self-contained module
  return code;
}

/** Two clients: join notices, history replayed to the second, a broadcast both receive. */
async function chat(url: string): Promise<void> {
  const alice = await TestClient.open(url);
  const aliceJoined = await alice.nextText();
  expect(aliceJoined).toMatch(/^User \S+ joined the chat$/);
  const bob = await TestClient.open(url);
  expect(await bob.nextText()).toBe(aliceJoined);
  const bobJoined = await bob.nextText();
  const bobId = /^User (\S+) joined the chat$/.exec(bobJoined)![1];
  expect(await alice.nextText()).toBe(bobJoined);
  bob.send("hello from the package");
  expect(await alice.nextText()).toBe(`User ${bobId}: hello from the package`);
  expect(await bob.nextText()).toBe(`User ${bobId}: hello from the package`);
  await Promise.all([alice.close(), bob.close()]);
}
