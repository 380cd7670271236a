/**
 * The relative links of the docs pages and the anchors they point at, for
 * test/doc-links.test.ts: a link resolves when its file exists and its
 * `#anchor`, if any, is a heading of that file as GitHub names it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

/** One link of a page: `[text](target)` or `![alt](target)`, outside code blocks. */
export interface DocLink {
  readonly line: number;
  readonly target: string;
}

const FENCE = /^\s*```/;

/** The lines of `text` that are not inside a fenced code block, with their 1-based numbers. */
function prose(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let inFence = false;
  text.split("\n").forEach((content, i) => {
    if (FENCE.test(content)) inFence = !inFence;
    else if (!inFence) lines.push({ line: i + 1, text: content });
  });
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a page's headings; a repeated one gets `-1`, `-2`… as on GitHub. */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { text: line } of prose(text)) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The links of a page that point inside the repository (not `https:`, `mailto:`…). */
export function relativeLinks(text: string): DocLink[] {
  const links: DocLink[] = [];
  for (const { line, text: content } of prose(text)) {
    // Code spans may show link syntax without being links.
    const outsideCode = content.replace(/`[^`]*`/g, "``");
    for (const match of outsideCode.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ line, target });
    }
  }
  return links;
}

/**
 * Every link of `pages` (paths relative to `root`) that does not resolve, as
 * "page:line: [target] reason". `pending` pages may be linked before they exist,
 * without an anchor (once they exist they are checked like any other).
 */
export function brokenLinks(
  root: string,
  pages: readonly string[],
  pending: readonly string[] = [],
): string[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    const known = anchorsOf.get(file);
    if (known) return known;
    const found = headingAnchors(readFileSync(join(root, file), "utf8"));
    anchorsOf.set(file, found);
    return found;
  };
  const broken: string[] = [];
  for (const page of pages) {
    for (const { line, target } of relativeLinks(readFileSync(join(root, page), "utf8"))) {
      const [path = "", anchor] = target.split("#", 2);
      const file = path === "" ? page : normalize(join(dirname(page), path));
      const where = `${page}:${line}: [${target}]`;
      if (!existsSync(join(root, file))) {
        if (!(pending.includes(file) && anchor === undefined)) broken.push(`${where} ${file} does not exist`);
        continue;
      }
      if (anchor !== undefined && file.endsWith(".md") && !anchors(file).has(anchor)) {
        broken.push(`${where} ${file} has no heading #${anchor}`);
      }
    }
  }
  return broken;
}
