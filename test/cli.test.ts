/**
 * The `polysocket` command line: parsing and the messages users see, and
 * `startChatServer()` from the sources (chat page bundled on the spot). The
 * command itself, with the page built into the package, runs in test/consumer.
 */
import { createServer } from "node:net";
import { describe, expect, test } from "vitest";
import { parseCliArgs, UsageError } from "../src/cli/args.ts";
import { startChatServer } from "../src/cli/chat-server.ts";
import { main } from "../src/cli/main.ts";
import { pageHtml } from "../src/page/html.ts";
import { chromiumAvailable, launchChromium, waitForState } from "./harness/browser.ts";
import { TestClient } from "./harness/client.ts";

describe("polysocket command line", () => {
  test("chat: defaults, flags and $PORT", () => {
    expect(parseCliArgs(["chat"])).toEqual({ kind: "chat", options: { port: 8080 } });
    expect(parseCliArgs(["chat"], { PORT: "9000" })).toMatchObject({ options: { port: 9000 } });
    expect(
      parseCliArgs(["chat", "-p", "0", "--host", "127.0.0.1", "--path", "/room", "--history", "5"]),
    ).toEqual({
      kind: "chat",
      options: { port: 0, hostname: "127.0.0.1", path: "/room", historyLimit: 5 },
    });
    expect(parseCliArgs(["chat", "--redis", "redis://localhost"])).toMatchObject({
      redis: "redis://localhost",
    });
  });

  test("help and version", () => {
    expect(parseCliArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseCliArgs(["chat", "-v"])).toEqual({ kind: "version" });
  });

  test.each([
    [[], "no command given"],
    [["serve"], 'unknown command "serve"'],
    [["chat", "extra"], 'unexpected argument "extra"'],
    [["chat", "--port", "70000"], '--port must be an integer from 0 to 65535, got "70000"'],
    [["chat", "--port", "-1"], "--port"],
    [["chat", "--history", "many"], "--history must be an integer from 0 to"],
    [["chat", "--nope"], "--nope"],
  ])("%j is a usage error: %s", (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  test("main: exit codes and what it prints", async () => {
    const io = {
      lines: [] as string[],
      out: (l: string) => io.lines.push(`out: ${l}`),
      err: (l: string) => io.lines.push(`err: ${l}`),
    };
    expect(await main(["--version"], io)).toBe(0);
    expect(await main(["chat", "--port", "x"], io)).toBe(2);
    expect(await main(["chat", "--port", "0", "--redis", "redis://127.0.0.1:1"], io)).toBe(1);
    expect(io.lines[0]).toMatch(/^out: \d+\.\d+\.\d+$/);
    expect(io.lines).toHaveLength(3);
    expect(io.lines[1]).toMatch(/^err: polysocket: --port must be an integer .*\n\nUsage: polysocket/);
    expect(io.lines[2]).toBe(
      'err: polysocket chat: cannot open room "chat" in Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  test("main: a taken port is exit code 1 with the reason", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const { port } = blocker.address() as { port: number };
    const errors: string[] = [];
    const io = { out: () => {}, err: (line: string) => errors.push(line) };
    try {
      expect(await main(["chat", "--host", "127.0.0.1", "--port", String(port)], io)).toBe(1);
      expect(errors).toEqual([`polysocket chat: address already in use: 127.0.0.1:${port}`]);
    } finally {
      blocker.close();
    }
  });
});

describe("startChatServer", () => {
  test("runs the chat room on a free port and closes clients with 1001", async () => {
    const chat = await startChatServer({ port: 0, hostname: "127.0.0.1", historyLimit: 1 });
    try {
      expect(chat.url).toBe(`ws://localhost:${chat.port}/chat`);
      const client = await TestClient.open(`ws://127.0.0.1:${chat.port}/chat`);
      const joined = await client.nextText();
      client.send("hi");
      expect(await client.nextText()).toBe(`${joined.replace(/ joined the chat$/, "")}: hi`);
      expect(chat.room.messageHistory).toEqual([`${joined.replace(/ joined the chat$/, "")}: hi`]);
      await chat.close();
      expect((await client.closed).code).toBe(1001);
    } finally {
      await chat.close();
    }
  });

  test("serves the chat page on its own port; the page connects to --path", async () => {
    const chat = await startChatServer({ port: 0, hostname: "127.0.0.1", path: "/room" });
    try {
      expect(chat.pageUrl).toBe(`http://localhost:${chat.port}/`);
      const origin = `http://127.0.0.1:${chat.port}`;
      const page = await fetch(`${origin}/`);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await page.text();
      expect(html).toContain("<title>polysocket chat</title>");
      expect(html).toContain('<body data-chat-path="/room">');
      const script = await fetch(`${origin}/app.js`);
      expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(await script.text()).toContain("document.body.dataset.chatPath");
      expect((await fetch(`${origin}/nowhere`)).status).toBe(404);
      expect((await fetch(`${origin}/`, { method: "POST" })).status).toBe(404);
    } finally {
      await chat.close();
    }
  });

  test("the chat page loads in Chromium with no failed request and no console error (icon included)", async (context) => {
    if (!chromiumAvailable()) return context.skip();
    const chat = await startChatServer({ port: 0, hostname: "127.0.0.1" });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const failures: string[] = [];
      page.on("response", (r) => {
        if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
      });
      page.on("console", (m) => {
        if (m.type() === "error") failures.push(`console: ${m.text()}`);
      });
      // Headless Chromium fetches only a linked icon, never the /favicon.ico a headed browser asks for
      // unprompted: test/http-status-suite.ts checks that one on every runtime.
      const icon = page
        .waitForResponse((r) => /^\/favicon\.(ico|svg)$/.test(new URL(r.url()).pathname), { timeout: 15_000 })
        .catch(() => {
          throw new Error("expected Chromium to fetch the page's icon within 15 s: the page links none");
        });
      await page.goto(`http://127.0.0.1:${chat.port}/`);
      await waitForState(page, "connected");
      const answer = await icon;
      expect(failures).toEqual([]);
      expect(`${answer.status()} ${answer.headers()["content-type"]}`).toBe("200 image/svg+xml");
    } finally {
      await browser.close();
      await chat.close();
    }
  });

  test("a --path with HTML in it stays an attribute value", () => {
    expect(pageHtml('/a"b<c&')).toContain('<body data-chat-path="/a&quot;b&lt;c&amp;">');
  });
});
