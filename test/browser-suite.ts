/**
 * The chat page and the seed's browser snippet in a real browser (Chromium),
 * against the chat server running in each runtime (test/fixtures/chat-server.ts);
 * the page's rooms mode against examples/rooms.ts in each runtime.
 */
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  chromiumAvailable,
  launchChromium,
  messageTexts,
  myId,
  say,
  waitForMessage,
  waitForState,
} from "./harness/browser.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { nativeVariant, ROOT, type Runtime, type Variant } from "./harness/runtimes.ts";

const SEED_SNIPPET = readFileSync(`${ROOT}test/fixtures/seed-client.js`, "utf8");

export function browserSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  const name = `[${variant.name}] browser`;
  let available: boolean;
  try {
    available = chromiumAvailable();
  } catch (error) {
    test(`${name} > Chromium is installed`, () => {
      throw error;
    });
    return;
  }
  (available ? describe : describe.skip)(name, () => {
    let server: RuntimeProcess;
    let browser: Browser;
    let origin: string;
    const open = async (query = "") => {
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${origin}/${query}`);
      await waitForState(page, "connected");
      return page;
    };
    const post = async (path: string) =>
      expect((await fetch(`${origin}${path}`, { method: "POST" })).status).toBe(200);

    beforeAll(async () => {
      server = new RuntimeProcess(runtime, "test/fixtures/chat-server.ts", variant.env);
      const line = await server.waitForLine((l) => l.includes('"listening"'), "listening");
      origin = `http://127.0.0.1:${JSON.parse(line).port}`;
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await server?.stop("SIGKILL");
    });

    test("two chat pages talk both ways and see each other online", async () => {
      const alice = await open();
      const bob = await open();
      const [aliceId, bobId] = [await myId(alice), await myId(bob)];
      await say(alice, "hello from alice");
      await waitForMessage(bob, `User ${aliceId}: hello from alice`);
      await say(bob, "hi alice 👋");
      await waitForMessage(alice, `User ${bobId}: hi alice 👋`);
      await alice.locator("#online li", { hasText: `User ${bobId}` }).waitFor();
      expect(await alice.locator("#online li").allTextContents()).toContain(`User ${aliceId} (you)`);
      await alice.context().close();
      await bob.context().close();
    });

    test("a message the server refuses shows as a notice on its sender's page only", async () => {
      const alice = await open();
      const bob = await open();
      const aliceId = await myId(alice);
      await say(alice, "x".repeat(2001));
      await alice
        .locator("#messages li.notice", { hasText: "Invalid message: message is over 2000 characters" })
        .waitFor();
      await say(alice, "a fine message");
      await waitForMessage(bob, `User ${aliceId}: a fine message`);
      expect(await bob.locator("#messages li.notice").count()).toBe(0);
      await alice.context().close();
      await bob.context().close();
    });

    test("a page cut off by the server shows every message once, in order, after it reconnects", async () => {
      const query = "?minDelay=50&maxDelay=200";
      const alice = await open(query);
      const bob = await open(query);
      const [aliceId, bobId] = [await myId(alice), await myId(bob)];
      await post("/test/hold"); // alice's reconnects are refused until release
      try {
        await post(`/test/cut?id=${aliceId}`);
        await waitForState(alice, "reconnecting");
        for (let i = 1; i <= 5; i++) {
          await say(bob, `while alice is away ${i}`);
          await waitForMessage(bob, `User ${bobId}: while alice is away ${i}`);
        }
        expect(await messageTexts(alice)).not.toContain(`User ${bobId}: while alice is away 1`);
      } finally {
        await post("/test/release"); // even on failure: the server's other tests need it open
      }
      await waitForState(alice, "connected");
      const aliceAgain = await myId(alice);
      expect(aliceAgain).not.toBe(aliceId);
      await waitForMessage(alice, `User ${aliceAgain} joined the chat`);
      const history: string[] = await (await fetch(`${origin}/test/history`)).json();
      // Alice's page shows the room's whole history: nothing missing, nothing twice, in order.
      expect(await messageTexts(alice)).toEqual(history);
      expect(history).toContain(`User ${bobId}: while alice is away 5`);
      expect(await alice.locator("#messages li.notice").count()).toBe(0);
      await alice.context().close();
      await bob.context().close();
    });

    test("rooms page: two rooms, unread counts, switching, messages in the right room, nicknames", async () => {
      const rooms = new RuntimeProcess(runtime, "examples/rooms.ts", { ...variant.env, PORT: "0" });
      try {
        const banner = await rooms.waitForLine((l) => l.startsWith("Rooms chat server started"), "banner");
        const roomsOrigin = `http://127.0.0.1:${/:(\d+)\/rooms$/.exec(banner)![1]}`;
        const page = async (token: string) => {
          const opened = await (await browser.newContext()).newPage();
          opened.setDefaultTimeout(15_000);
          await opened.goto(`${roomsOrigin}/?token=${token}`);
          await waitForState(opened, "connected");
          return opened;
        };
        const alice = await page("alice-token");
        const bob = await page("bob-token");
        const entry = (p: typeof alice, room: string) => p.locator(`#rooms li[data-room="${room}"]`);
        await alice.locator("#me", { hasText: "alice" }).waitFor();
        await alice.locator("#online li", { hasText: "bob" }).waitFor();
        expect(await alice.locator("#online li").allTextContents()).toContain("alice (you)");
        expect(await alice.locator("#room-title").textContent()).toBe("lobby");

        await entry(bob, "random").locator(".name").click();
        await bob.locator("#room-title", { hasText: "random" }).waitFor();
        await say(bob, "only in random");
        await waitForMessage(bob, "bob: only in random");
        await entry(alice, "random").locator(".unread", { hasText: /^1$/ }).waitFor();
        expect(await messageTexts(alice)).not.toContain("bob: only in random");
        await say(alice, "hello lobby");
        await waitForMessage(alice, "alice: hello lobby");
        await entry(bob, "lobby")
          .locator(".unread", { hasText: /^[1-9]/ })
          .waitFor();

        await entry(alice, "random").locator(".name").click();
        await waitForMessage(alice, "bob: only in random");
        expect(await entry(alice, "random").locator(".unread").isHidden()).toBe(true);
        expect(await messageTexts(alice)).not.toContain("alice: hello lobby");

        await alice.fill("#join-input", "games");
        await alice.press("#join-input", "Enter");
        await alice.locator("#room-title", { hasText: "games" }).waitFor();
        await waitForMessage(alice, "alice joined games");
        await alice.fill("#join-input", "staff");
        await alice.press("#join-input", "Enter");
        await alice.locator("#messages li.notice", { hasText: "Left staff: staff only" }).waitFor();
        expect(await alice.locator("#rooms li").evaluateAll((li) => li.map((l) => l.dataset.room))).toEqual([
          "lobby",
          "random",
          "games",
        ]);
        await alice.context().close();
        await bob.context().close();
      } finally {
        await rooms.stop("SIGKILL");
      }
    });

    test("the seed's JavaScript client snippet, unchanged, connects, sends and receives", async () => {
      const chat = await open();
      const seed = await (await browser.newContext()).newPage();
      const logs: string[] = [];
      seed.on("console", (message) => void logs.push(message.text()));
      const logged = (match: (line: string) => boolean) =>
        logs.some(match) ? Promise.resolve() : seed.waitForEvent("console", (m) => match(m.text()));
      // Only the port differs: the snippet hard-codes 8080, the test server uses a free one.
      await seed.addScriptTag({
        content: SEED_SNIPPET.replace("ws://localhost:8080/chat", `${origin.replace("http", "ws")}/chat`),
      });
      await logged((line) => line === "Connected to chat server");
      await logged((line) => /^Received: User \S+ joined the chat$/.test(line));
      await seed.evaluate("sendMessage('hello from the seed snippet')");
      await logged((line) => /^Received: User \S+: hello from the seed snippet$/.test(line));
      const seedId = /^Received: User (\S+) joined the chat$/.exec(
        logs.findLast((l) => l.endsWith("joined the chat"))!,
      )![1];
      await waitForMessage(chat, `User ${seedId}: hello from the seed snippet`);
      await seed.context().close();
      await chat.context().close();
    });
  });
}
