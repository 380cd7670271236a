/**
 * The README's "Quick start on each runtime", read from README.md itself so the
 * consumer test follows the steps a user follows and breaks when they drift.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, RUNTIMES, type Runtime } from "../harness/runtimes.ts";

const SECTION = "## Quick start on each runtime";
const TABLE_NAMES: Record<Runtime, string> = { node: "Node.js", bun: "Bun", deno: "Deno" };

/** What the quick start tells a user to write and run. */
export interface QuickStart {
  /** The contents of `server.ts`. */
  readonly server: string;
  /** The Node setup commands, in order, each split into words (the run command excluded). */
  readonly setup: readonly string[][];
  /** Each runtime's run command, split into words. */
  readonly run: Readonly<Record<Runtime, string[]>>;
}

/** Parses the quick start of README.md; throws naming what is missing. */
export function readmeQuickStart(): QuickStart {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const end = readme.indexOf("\n## ", start + SECTION.length);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const commands = fenced(section, "sh")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map(words);
  const run = runCommands(section);
  const last = commands.at(-1)?.join(" ");
  if (last !== run.node.join(" ")) {
    throw new Error(
      `the quick start's sh block should end with the Node run command "${run.node.join(" ")}"`,
    );
  }
  return { server: fenced(section, "ts"), setup: commands.slice(0, -1), run };
}

/** The body of the first fenced block of `lang` in `text`. */
function fenced(text: string, lang: string): string {
  const match = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "m").exec(text);
  if (!match) throw new Error(`the quick start has no \`\`\`${lang} block`);
  return match[1]!;
}

/** The first code span of each runtime's row in the "run it" table. */
function runCommands(section: string): Record<Runtime, string[]> {
  const entries = RUNTIMES.map((runtime) => {
    const row = new RegExp(`^\\| ${TABLE_NAMES[runtime]} \\| \`([^\`]+)\``, "m").exec(section);
    if (!row) throw new Error(`the quick start's table has no "${TABLE_NAMES[runtime]}" row with a command`);
    return [runtime, words(row[1]!)] as const;
  });
  return Object.fromEntries(entries) as Record<Runtime, string[]>;
}

function words(line: string): string[] {
  return line.split(/\s+/).filter(Boolean);
}
