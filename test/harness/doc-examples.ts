/**
 * The code examples of the docs (the fenced blocks of README.md and docs/*.md, the
 * JSDoc `@example`s of src/**), found the way `deno check --doc-only` finds them, and the server
 * examples among them made runnable for test/doc-examples.test.ts.
 *
 * A server example is a block that imports `polysocket` (any entry point) and
 * calls `.listen(`. How the test checks it: a fence attribute `run=chat`,
 * `run=echo`, `run=open` or `run=no` says so; otherwise an example that uses
 * `ChatRoom` (or `redisChatRoom`) is a chat server, any other an echo server.
 * `ignore` (which deno check skips too) also means not run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { RUNTIMES, type Runtime } from "./runtimes.ts";

/** One fenced code block. */
export interface DocExample {
  /** Path relative to the project root. */
  readonly file: string;
  /** Line (1-based) of the opening fence in `file`. */
  readonly line: number;
  readonly lang: string;
  /** The fence's words after the language, e.g. `ignore`, `run=echo`. */
  readonly attributes: readonly string[];
  readonly code: string;
}

/** How a server example is checked. */
export type Check = "chat" | "echo" | "open";

/** A server example with what the test needs to run it. */
export interface ServerExample extends DocExample {
  readonly check: Check;
  readonly runtimes: readonly Runtime[];
  /** Uses `polysocket/redis`: needs a Redis. */
  readonly redis: boolean;
  /** The upgrade path it serves (its `path:` option, default "/"). */
  readonly path: string;
}

const CODE_LANGS = new Set(["ts", "typescript", "js", "javascript"]);
const FENCE = /^(\s*)```(\S*)\s*(.*)$/;
/** Printed by the runnable example once listening, with the real port. */
export const LISTENING = "doc-example listening on";

/** The fenced code blocks of markdown `text` (or of a comment's lines), `first` being the first line's number. */
export function fencedBlocks(file: string, lines: readonly string[], first = 1): DocExample[] {
  const blocks: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent = "", lang = "", rest = ""] = open;
    const body: string[] = [];
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!))
      body.push(lines[end++]!.slice(indent.length));
    if (CODE_LANGS.has(lang)) {
      const attributes = rest.split(/\s+/).filter(Boolean);
      blocks.push({ file, line: first + i, lang, attributes, code: body.join("\n") });
    }
    i = end;
  }
  return blocks;
}

/** The `@example` blocks of the JSDoc comments of a TypeScript source. */
export function jsdocBlocks(file: string, source: string): DocExample[] {
  const blocks: DocExample[] = [];
  for (const comment of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    if (!comment[0].includes("@example")) continue;
    const first = source.slice(0, comment.index).split("\n").length;
    const lines = comment[0].split("\n").map((line) => line.replace(/^\s*(\/\*\*|\*\/|\*(?!\/) ?)/, ""));
    blocks.push(...fencedBlocks(file, lines, first));
  }
  return blocks;
}

/** The docs pages: README.md, then docs/*.md by name (what `npm run check:docs` checks). */
export function docPages(root: string): string[] {
  const pages = readdirSync(join(root, "docs"), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...pages];
}

/** Every code example of the docs pages and of the JSDoc in src/**. */
export function docExamples(root: string): DocExample[] {
  const sources = tsFiles(join(root, "src")).map((path) => relative(root, path));
  return [
    ...docPages(root).flatMap((file) =>
      fencedBlocks(file, readFileSync(join(root, file), "utf8").split("\n")),
    ),
    ...sources.flatMap((file) => jsdocBlocks(file, readFileSync(join(root, file), "utf8"))),
  ];
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return tsFiles(path);
      return entry.name.endsWith(".ts") ? [path] : [];
    });
}

/** The polysocket entry points `code` imports: "" for `polysocket`, "node", "redis"… */
function polysocketImports(code: string): string[] {
  return [...code.matchAll(/from\s+["']polysocket(?:\/(\w+))?["']/g)].map((m) => m[1] ?? "");
}

/** The example as a server example, or `undefined` if it does not start a polysocket server. */
export function asServerExample(example: DocExample): ServerExample | undefined {
  const entries = polysocketImports(example.code);
  if (entries.length === 0 || !example.code.includes(".listen(")) return undefined;
  const run = example.attributes.find((a) => a.startsWith("run="))?.slice(4);
  if (example.attributes.includes("ignore") || run === "no") return undefined;
  if (run !== undefined && run !== "chat" && run !== "echo" && run !== "open") {
    throw new Error(`${where(example)}: unknown fence attribute run=${run} (chat, echo, open or no)`);
  }
  const chat = /\b(ChatRoom|redisChatRoom)\b/.test(example.code);
  return {
    ...example,
    check: run ?? (chat ? "chat" : "echo"),
    runtimes: runtimesFor(entries),
    redis: entries.includes("redis"),
    path: /\bpath:\s*["']([^"']+)["']/.exec(example.code)?.[1] ?? "/",
  };
}

/** A pinned entry point runs where it can: polysocket/node on Node and on Deno's Node layer. */
function runtimesFor(entries: string[]): readonly Runtime[] {
  if (entries.includes("bun")) return ["bun"];
  if (entries.includes("deno")) return ["deno"];
  if (entries.includes("node")) return ["node", "deno"];
  return RUNTIMES;
}

/** "README.md:52", for test names and failures. */
export function where(example: DocExample): string {
  return `${example.file}:${example.line}`;
}

/**
 * The example's code, changed only where a test must: port 0 on 127.0.0.1
 * instead of its port, the test's Redis and a room of its own, and the real port
 * printed once `listen()` resolves.
 */
export function runnableSource(example: ServerExample, redis?: { url: string; room: string }): string {
  let code = example.code.replace(/\bport:\s*\d+/g, "port: 0");
  if (!/\bhostname:/.test(code)) code = code.replace(/\bport: 0/g, 'port: 0, hostname: "127.0.0.1"');
  if (redis) {
    code = code
      .replace(/redis:\/\/[^"'`\s]+/g, redis.url)
      .replace(/\broom:\s*"[^"]*"/g, `room: "${redis.room}"`);
  }
  let listens = 0;
  code = code.replace(/\.listen\(\)/g, () => {
    listens++;
    return ".listen().then(__docExampleListening)";
  });
  if (listens !== 1) {
    throw new Error(`${where(example)}: expected one \`.listen()\` to report the port of, found ${listens}`);
  }
  // A function declaration is hoisted, so it can follow the example's top-level code.
  return `${code}\nfunction __docExampleListening(address) {\n  console.log("${LISTENING}", address.port);\n  return address;\n}\n`;
}
