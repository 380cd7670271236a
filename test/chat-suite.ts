/**
 * End-to-end test of examples/chat.ts, the seed's chat server, in each runtime.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { RuntimeProcess } from "./harness/process.ts";
import type { Runtime } from "./harness/runtimes.ts";

const STARTED = /^WebSocket Chat Server started on ws:\/\/localhost:(\d+)\/chat$/;
const HISTORY_LIMIT = 5;

/**
 * A newcomer receives the `replayed` messages of the history before it (each test
 * has a server of its own, so the test knows how many), then its own join notice:
 * returns its id.
 */
async function ownJoin(client: TestClient, replayed: number): Promise<string> {
  for (let i = 0; i < replayed; i++) await client.nextText();
  const notice = await client.nextText();
  const join = /^User (\S+) joined the chat$/.exec(notice);
  expect(join, `message #${replayed + 1} is its own join notice`).not.toBeNull();
  return join![1]!;
}

export function chatSuite(runtime: Runtime): void {
  describe(`[${runtime}] chat example`, () => {
    let server: RuntimeProcess;
    let url: string;

    // A server per test: every test starts from an empty history, whichever ran before.
    beforeEach(async () => {
      server = new RuntimeProcess(runtime, "examples/chat.ts", {
        PORT: "0",
        HISTORY_LIMIT: String(HISTORY_LIMIT),
      });
      const line = await server.waitForLine((l) => STARTED.test(l), "the start banner");
      url = `ws://127.0.0.1:${STARTED.exec(line)![1]}/chat`;
    });
    afterEach(async () => {
      await server?.stop("SIGKILL");
    });

    test("join notice, broadcast, history replayed exactly once to a late joiner, leave notice", async () => {
      const alice = await TestClient.open(url);
      const aliceJoined = await alice.nextText();
      const aliceId = /^User (\S+) joined the chat$/.exec(aliceJoined)![1]!;
      alice.send("hello, anyone?");
      expect(await alice.nextText()).toBe(`User ${aliceId}: hello, anyone?`);

      const bob = await TestClient.open(url);
      const history = [aliceJoined, `User ${aliceId}: hello, anyone?`];
      expect(await bob.nextText()).toBe(history[0]);
      expect(await bob.nextText()).toBe(history[1]);
      const bobJoined = await bob.nextText();
      const bobId = /^User (\S+) joined the chat$/.exec(bobJoined)![1]!;
      expect(bobId).not.toBe(aliceId);
      expect(await alice.nextText()).toBe(bobJoined);

      bob.send("hi alice 👋");
      expect(await alice.nextText()).toBe(`User ${bobId}: hi alice 👋`);
      expect(await bob.nextText()).toBe(`User ${bobId}: hi alice 👋`);

      await bob.close();
      expect(await alice.nextText()).toBe(`User ${bobId} left the chat`);
      // Bob saw his own join once: nothing in his stream is duplicated.
      expect(new Set(bob.messages).size).toBe(bob.messages.length);
      await alice.close();
    });

    test("an invalid message is refused to its sender only and never broadcast", async () => {
      const sender = await TestClient.open(url);
      const senderId = await ownJoin(sender, 0);
      const other = await TestClient.open(url);
      const otherId = await ownJoin(other, 1);
      expect(await sender.nextText()).toBe(`User ${otherId} joined the chat`);
      for (const [bad, why] of [
        ["", "message is empty"],
        ["x".repeat(2001), "message is over 2000 characters"],
        ["bell\u0007", "message contains control characters"],
      ] as const) {
        sender.send(bad);
        expect(await sender.nextText()).toBe(`Invalid message: ${why}`);
      }
      sender.send("a fine message");
      // The very next thing `other` sees is the valid message: the invalid ones reached nobody.
      expect(await other.nextText()).toBe(`User ${senderId}: a fine message`);
      await Promise.all([sender.close(), other.close()]);
    });

    test("a resumable client's invalid message comes back as a notice frame, outside the numbered stream", async () => {
      const client = await TestClient.open(`${url}?resume`);
      client.send(JSON.stringify({ type: "message", data: "" }));
      client.send(JSON.stringify({ type: "message", data: "after the refusal" }));
      const notice = await client.nextUntil((m) => JSON.parse(m).type === "notice");
      expect(JSON.parse(notice)).toEqual({ type: "notice", text: "Invalid message: message is empty" });
      const accepted = JSON.parse(await client.nextUntil((m) => m.includes("after the refusal")));
      expect(accepted).toMatchObject({
        type: "message",
        data: expect.stringMatching(/: after the refusal$/),
      });
      // Numbered consecutively: the refused message took no number.
      const seqs = client.messages.map((m) => JSON.parse(m as string)).filter((f) => f.type === "message");
      expect(seqs.map((f) => f.seq)).toEqual(seqs.map((_, i) => seqs[0].seq + i));
      await client.close();
    });

    test("history is bounded: a late joiner gets only the last HISTORY_LIMIT messages", async () => {
      const talker = await TestClient.open(url);
      const talkerId = await ownJoin(talker, 0);
      for (let i = 0; i < 8; i++) talker.send(`m${i}`);
      await talker.nextUntil((m) => m === `User ${talkerId}: m7`);
      // The history held 9 messages (the talker's join, m0..m7): the late joiner gets the last 5.
      const late = await TestClient.open(url);
      const lateId = await ownJoin(late, HISTORY_LIMIT);
      expect(late.messages.slice(0, 5)).toEqual([3, 4, 5, 6, 7].map((i) => `User ${talkerId}: m${i}`));
      expect(lateId).not.toBe(talkerId);
      await Promise.all([talker.close(), late.close()]);
    });

    test("serves the chat page and its bundled client on the same port", async () => {
      const origin = url.replace("ws://", "http://").replace(/\/chat$/, "");
      expect(await (await fetch(`${origin}/`)).text()).toContain("<title>polysocket chat</title>");
      expect((await fetch(`${origin}/app.js`)).status).toBe(200);
    });

    test("SIGTERM closes clients with 1001 and exits 0", async () => {
      const client = await TestClient.open(url);
      await ownJoin(client, 0);
      const code = server.stop("SIGTERM");
      expect(await client.closed).toEqual({ code: 1001, reason: "server shutting down" });
      expect(await code).toBe(0);
    });
  });
}
