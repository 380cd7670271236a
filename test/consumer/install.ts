/**
 * Builds and packs polysocket once, then lays out consumer projects outside the
 * repository (under the OS temp dir) that see only what users get:
 *   app/  `npm install <tarball>`: Node, Bun and Deno (npm specifier) consumers;
 *   jsr/  the files `deno publish --dry-run` would upload, as a Deno workspace
 *         member imported with a `jsr:` specifier (what `deno add jsr:` gives).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import ts from "typescript";
import { ROOT } from "../harness/runtimes.ts";

const FIXTURES = join(ROOT, "test/consumer/fixtures");
const DENO = join(ROOT, "node_modules/.bin/deno");
const EXAMPLE = "examples/chat.ts";
/** The chat page, shared with the `polysocket` command; the example bundles and serves it. */
const PAGE = "src/page";
/** What the example's Node variant needs transpiled (browser.ts stays TypeScript: esbuild bundles it). */
const EXAMPLE_SOURCES = [EXAMPLE, ...["bundle", "handler", "html", "icon"].map((f) => `${PAGE}/${f}.ts`)];

/** The consumer projects of one run. */
export interface Consumers {
  readonly root: string;
  readonly app: string;
  readonly jsr: string;
  /** Paths inside the tarball, e.g. `package/dist/index.js`. */
  readonly packed: readonly string[];
  /** The packed package, for projects a test sets up itself. */
  readonly tarball: string;
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

/** Builds, packs and installs; throws (failing the suite) if any step fails. */
export function installConsumers(): Consumers {
  const root = mkdtempSync(join(tmpdir(), "polysocket-consumer-"));
  run("npm", ["run", "build"], ROOT);
  const [pack] = JSON.parse(
    run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], ROOT),
  );
  const tarball = join(root, pack.filename);
  const app = appProject(root, tarball);
  const jsr = jsrProject(root, app);
  const packed = pack.files.map((f: { path: string }) => `package/${f.path}`);
  return { root, app, jsr, packed, tarball };
}

function appProject(root: string, tarball: string): string {
  const app = join(root, "app");
  mkdirSync(app);
  writeJson(join(app, "package.json"), { name: "consumer", private: true, type: "module" });
  // The npm cache that `npm ci` filled serves ws and @types/node without the network.
  // esbuild: the example bundles its chat page (src/page/bundle.ts) when it starts.
  const esbuild = `esbuild@${rootPackage().devDependencies.esbuild}`;
  run(
    "npm",
    ["install", tarball, "@types/node@20", esbuild, "--prefer-offline", "--no-audit", "--no-fund"],
    app,
  );
  // `deno add npm:polysocket` would write this; "manual" makes Deno use node_modules.
  writeJson(join(app, "deno.json"), {
    nodeModulesDir: "manual",
    imports: { polysocket: "npm:polysocket@^0.1.0" },
  });
  copyExample(app); // unchanged, for Bun, Deno and tsc
  // The same, as plain JS for Node 20 (.js beside each .ts source).
  for (const file of EXAMPLE_SOURCES) {
    const source = readFileSync(join(ROOT, file), "utf8");
    writeFileSync(join(app, file.replace(/\.ts$/, file === EXAMPLE ? ".mjs" : ".js")), transpile(source));
  }
  cpSync(FIXTURES, app, { recursive: true });
  return app;
}

/**
 * examples/chat.ts and the chat page it imports (src/page/), copied as they are
 * and where they are, so the relative import holds. Only the page: polysocket
 * itself comes from the tarball (the probes check which build each runtime loads).
 */
function copyExample(project: string): void {
  cpSync(join(ROOT, EXAMPLE), join(project, EXAMPLE));
  cpSync(join(ROOT, PAGE), join(project, PAGE), { recursive: true });
}

function rootPackage(): { devDependencies: Record<string, string> } {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
}

/** TypeScript to ESM JavaScript, nothing else: what a user's build step does (`.ts` imports become `.js`). */
function transpile(source: string): string {
  const options = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    rewriteRelativeImportExtensions: true,
  };
  return ts.transpileModule(source, { compilerOptions: options }).outputText;
}

function jsrProject(root: string, app: string): string {
  const jsr = join(root, "jsr");
  const member = join(jsr, "polysocket");
  for (const file of publishedFiles()) {
    mkdirSync(dirname(join(member, file)), { recursive: true });
    cpSync(join(ROOT, file), join(member, file));
  }
  // JSR ignores these local-only settings; a workspace member may not carry them.
  const config = JSON.parse(readFileSync(join(member, "deno.json"), "utf8"));
  delete config.nodeModulesDir;
  delete config.lock;
  writeJson(join(member, "deno.json"), config);
  writeJson(join(jsr, "deno.json"), {
    workspace: ["./polysocket"],
    nodeModulesDir: "manual",
    imports: { polysocket: `jsr:${config.name}@^${config.version}`, esbuild: "npm:esbuild" },
  });
  // `ws` and esbuild, as npm installed them (esbuild bundles the page's `polysocket/client` from there).
  symlinkSync(join(app, "node_modules"), join(jsr, "node_modules"));
  copyExample(jsr);
  cpSync(join(FIXTURES, "probe.mjs"), join(jsr, "probe.mjs"));
  return jsr;
}

/** The files of the JSR package, as the publish dry run lists them (relative to the root). */
function publishedFiles(): string[] {
  const env = { ...process.env, NO_COLOR: "1" };
  const dryRun = spawnSync(DENO, ["publish", "--dry-run", "--allow-dirty"], {
    cwd: ROOT,
    encoding: "utf8",
    env,
  });
  const output = dryRun.stdout + dryRun.stderr; // Deno lists the files on stderr
  if (dryRun.status !== 0) throw new Error(`deno publish --dry-run failed:\n${output}`);
  const prefix = `file://${ROOT}`;
  const files = [...output.matchAll(/^\s+(file:\S+)/gm)].map((m) => decodeURI(m[1]!).slice(prefix.length));
  if (!files.includes("src/index.ts")) throw new Error(`unexpected dry-run output:\n${output}`);
  return files;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
