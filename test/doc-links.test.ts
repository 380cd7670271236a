/**
 * The docs pages link to each other and to the repository's files; every such
 * link must resolve (the file exists, the `#anchor` is one of its headings as
 * GitHub names it), so moving a section from one page to another cannot leave
 * a dead link behind.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { docPages } from "./harness/doc-examples.ts";
import { brokenLinks, headingAnchors, relativeLinks, slug } from "./harness/doc-links.ts";
import { ROOT } from "./harness/runtimes.ts";

/** Pages other changes are writing: linked already, checked once they exist. */
const PENDING = ["docs/rooms.md", "docs/metrics.md"];

describe("doc links", () => {
  test("every relative link of README.md and docs/*.md resolves to a file and a heading", () => {
    const pages = docPages(ROOT);
    expect(pages.length, `docs pages found: ${pages.join(", ")}`).toBeGreaterThan(5);
    expect(brokenLinks(ROOT, pages, PENDING)).toEqual([]);
  });

  test("the README links every docs page, and the pages being written", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const linked = new Set(relativeLinks(readme).map((link) => link.target.split("#")[0]));
    const pages = [...docPages(ROOT).filter((page) => page !== "README.md"), ...PENDING];
    expect(
      pages.filter((page) => !linked.has(page)),
      "docs pages the README does not link",
    ).toEqual([]);
  });

  test("anchors are GitHub's: punctuation dropped, spaces to hyphens, repeats numbered", () => {
    expect(slug("`new Server(options)`")).toBe("new-serveroptions");
    expect(slug("Serve wss://")).toBe("serve-wss");
    expect(slug("Client: `polysocket/client`")).toBe("client-polysocketclient");
    expect(slug("Plain protocol (the seed's)")).toBe("plain-protocol-the-seeds");
    expect([...headingAnchors("# A\n## Topics\n```sh\n# not a heading\n```\n### Topics\n")]).toEqual([
      "a",
      "topics",
      "topics-1",
    ]);
  });

  test("a missing page, a missing heading and a link inside a page are each reported", () => {
    const root = mkdtempSync(join(tmpdir(), "doc-links-"));
    try {
      mkdirSync(join(root, "docs"));
      writeFileSync(
        join(root, "README.md"),
        "# Top\n[a](docs/a.md#here) [b](docs/b.md) [c](#top) [p](docs/p.md)\n",
      );
      writeFileSync(join(root, "docs/a.md"), "# A\n## Elsewhere\n[up](../README.md#gone) `[code](x.md)`\n");
      expect(brokenLinks(root, ["README.md", "docs/a.md"], ["docs/p.md"])).toEqual([
        "README.md:2: [docs/a.md#here] docs/a.md has no heading #here",
        "README.md:2: [docs/b.md] docs/b.md does not exist",
        "docs/a.md:3: [../README.md#gone] README.md has no heading #gone",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
