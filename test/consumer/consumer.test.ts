/**
 * Consumer tests: the packed npm tarball and the JSR dry-run files, installed
 * outside the repository, run the unchanged examples/chat.ts (and the
 * `polysocket` command) on Node (ESM and CJS), Bun and Deno; real `ws` clients
 * chat with each. One build and one pack per run. Nothing is skipped: a missing
 * runtime or a failed install fails the suite.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { distName, entries } from "../../scripts/entries.ts";
import { TestClient } from "../harness/client.ts";
import { RuntimeProcess } from "../harness/process.ts";
import { binary, ROOT } from "../harness/runtimes.ts";
import { type Consumers, installConsumers } from "./install.ts";

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

/** One way a user runs polysocket: where, and the command line. */
interface Way {
  name: string;
  project: "app" | "jsr";
  command: () => [string, string[]];
}

const deno = (args: string[]): [string, string[]] => [binary("deno"), ["run", "-A", ...args]];
const bun = (args: string[]): [string, string[]] => [binary("bun"), args];

const CHAT_SERVERS: Way[] = [
  { name: "node, ESM (chat.ts transpiled)", project: "app", command: () => [NODE, ["chat.mjs"]] },
  { name: "node, CJS require()", project: "app", command: () => [NODE, ["chat-cjs.cjs"]] },
  { name: "bun", project: "app", command: () => bun(["chat.ts"]) },
  { name: "deno, npm: specifier", project: "app", command: () => deno(["chat.ts"]) },
  { name: "deno, JSR package (dry-run files)", project: "jsr", command: () => deno(["chat.ts"]) },
  {
    name: "CLI on node (bin)",
    project: "app",
    command: () => [NODE, ["node_modules/.bin/polysocket", ...CLI]],
  },
  { name: "CLI on bun", project: "app", command: () => bun(["node_modules/.bin/polysocket", ...CLI]) },
  { name: "CLI on deno (npm:polysocket)", project: "app", command: () => deno(["npm:polysocket", ...CLI]) },
];

describe("consumer: the packed package", () => {
  test("the tarball holds the build, the bin and the docs, and no sources or tests", () => {
    const { packed } = consumers;
    const builds = Object.keys(entries).flatMap((subpath) =>
      ["js", "cjs", "d.ts", "d.cts"].map((ext) => `package/dist/${distName(subpath)}.${ext}`),
    );
    const docs = ["package/README.md", "package/LICENSE", "package/CHANGELOG.md"];
    expect(packed).toEqual(expect.arrayContaining([...builds, "package/dist/cli.js", ...docs]));
    expect(packed.filter((f) => /^package\/(src|test|examples|scripts)\//.test(f))).toEqual([]);
  });

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
  test.each(CHAT_SERVERS)("$name", async ({ project, command }) => {
    const server = RuntimeProcess.command(command(), consumers[project], { PORT: "0" });
    try {
      const banner = await server.waitForLine((line) => STARTED.test(line), "the start banner");
      await chat(`ws://127.0.0.1:${STARTED.exec(banner)![1]}/chat`);
      expect(await server.stop("SIGTERM")).toBe(0);
    } finally {
      await server.stop("SIGKILL");
    }
  });
});

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
