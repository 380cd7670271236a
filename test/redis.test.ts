/**
 * `polysocket/redis`: one chat room served by three processes, one per runtime
 * (examples/chat.ts on Node, Bun and Deno with REDIS_URL), sharing one Redis.
 * Skips with one line without Redis, fails instead when CI requires it.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startChatServer } from "../src/cli/chat-server.ts";
import { TestClient } from "./harness/client.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { redisUnavailable, TestRedis } from "./harness/redis.ts";
import { RUNTIMES, type Runtime } from "./harness/runtimes.ts";

const STARTED = /^WebSocket Chat Server started on ws:\/\/localhost:(\d+)\/chat$/;
const JOINED = /^User (\S+) joined the chat$/;

const unavailable = redisUnavailable();
if (unavailable) console.log(`Redis tests skipped: ${unavailable}`);

type Frame = { type: string; seq?: number; data?: string; epoch?: string; id?: string; online?: string[] };

/** A client of the resumable protocol over a raw socket, so the test sees exactly what went over the wire. */
class WireClient {
  private constructor(readonly client: TestClient) {}

  static async open(url: string, resume = ""): Promise<WireClient> {
    return new WireClient(await TestClient.open(`${url}?resume=${resume}`));
  }

  frames(): Frame[] {
    return this.client.messages.map((m) => JSON.parse(m as string) as Frame);
  }

  messages(): { seq: number; data: string }[] {
    return this.frames()
      .filter((f) => f.type === "message")
      .map((f) => ({ seq: f.seq!, data: f.data! }));
  }

  async welcome(): Promise<Frame> {
    await this.client.receive(1);
    const welcome = this.frames()[0]!;
    expect(welcome.type, "the first frame is the welcome").toBe("welcome");
    return welcome;
  }

  /** Sends a chat message in the protocol's frame. */
  say(data: string): void {
    this.client.send(JSON.stringify({ type: "message", data }));
  }

  /** Waits (at most `ms`) for a presence frame listing everyone in `online` and nobody in `gone`. */
  async presence(online: string[], gone: string[] = [], ms?: number): Promise<void> {
    const listed = (frame: Frame) =>
      frame.type === "presence" &&
      online.every((id) => frame.online!.includes(id)) &&
      !gone.some((id) => frame.online!.includes(id));
    const what = `presence with ${JSON.stringify(online)} online${gone.length ? `, not ${JSON.stringify(gone)}` : ""}`;
    await this.client.nextUntil((m) => listed(JSON.parse(m)), what, ms);
  }

  /** Waits (at most `ms`) for a message frame whose text satisfies `match`, named `what` in a failure. */
  async until(match: (data: string) => boolean, what: string = String(match), ms?: number): Promise<void> {
    await this.client.nextUntil(
      (m) => {
        const frame = JSON.parse(m) as Frame;
        return frame.type === "message" && match(frame.data!);
      },
      what,
      ms,
    );
  }

  /** Waits (at most `ms`) for the message frame whose text is `text`. */
  untilText(text: string, ms?: number): Promise<void> {
    return this.until((data) => data === text, JSON.stringify(text), ms);
  }
}

describe.skipIf(unavailable !== undefined)(
  "[redis] one chat room across node, bun and deno processes",
  () => {
    // Each test has a Redis (or, with REDIS_URL, a room) and chat processes of its own:
    // none depends on what an earlier one stored, killed or restarted.
    let redis: TestRedis;
    let room: string;
    let tests = 0;
    const servers = new Map<Runtime, { process: RuntimeProcess; url: string }>();
    const url = (runtime: Runtime) => servers.get(runtime)!.url;

    /** Starts examples/chat.ts with the room in Redis on each of `runtimes`. */
    const cluster = (runtimes: readonly Runtime[] = RUNTIMES) =>
      Promise.all(
        runtimes.map(async (runtime) => {
          const env = { PORT: "0", HISTORY_LIMIT: "100", REDIS_URL: redis.url, CHAT_ROOM: room };
          const process = new RuntimeProcess(runtime, "examples/chat.ts", env);
          servers.set(runtime, { process, url: "" });
          const line = await process.waitForLine((l) => STARTED.test(l), `the ${runtime} start banner`);
          servers.set(runtime, { process, url: `ws://127.0.0.1:${STARTED.exec(line)![1]}/chat` });
        }),
      );

    beforeEach(async () => {
      room = `test-${Date.now()}-${process.pid}-${++tests}`;
      redis = await TestRedis.start();
    });
    afterEach(async () => {
      await Promise.all([...servers.values()].map((s) => s.process.stop("SIGKILL")));
      servers.clear();
      await redis?.dispose();
    });

    test("every client on every process receives every message, in the same order", async () => {
      await cluster();
      const plain: TestClient[] = [];
      for (const runtime of RUNTIMES) {
        const client = await TestClient.open(url(runtime));
        // The earlier joins (replayed or live), then its own.
        await client.receive(plain.length + 1);
        expect(client.messages.every((m) => JOINED.test(m as string))).toBe(true);
        plain.push(client);
      }
      const wire = await WireClient.open(url("node"));
      const welcome = await wire.welcome();
      expect(welcome).toMatchObject({ type: "welcome", epoch: expect.any(String), seq: expect.any(Number) });
      await wire.untilText(`User ${welcome.id} joined the chat`);
      for (const client of plain) await client.nextUntil((m) => m === `User ${welcome.id} joined the chat`);

      // Everyone talks at once, each to their own process.
      plain.forEach((client, i) => {
        for (let n = 0; n < 5; n++) client.send(`${RUNTIMES[i]} says ${n}`);
      });
      const total = 4 + 15; // four joins, fifteen messages
      await Promise.all(plain.map((client) => client.receive(total)));
      while (wire.messages().length < total) await wire.client.next();

      // The first client saw every join live; the later ones had the earlier joins replayed: the same list.
      const order = plain[0]!.messages;
      expect(order).toHaveLength(total);
      for (const client of plain) expect(client.messages).toEqual(order);
      for (const runtime of RUNTIMES) {
        expect(order.filter((m) => (m as string).endsWith(`: ${runtime} says 4`))).toHaveLength(1);
      }
      // The resumable client (history replayed to it, then live): the same texts, numbered 1, 2, 3…
      const numbered = wire.messages();
      expect(numbered.map((m) => m.seq)).toEqual(order.map((_, i) => i + 1));
      expect(numbered.map((m) => m.data)).toEqual(order);
      await Promise.all([...plain.map((c) => c.close()), wire.client.close()]);
    });

    test("a resumable client moved to another process mid-chat resumes with nothing lost and nothing twice", async () => {
      await cluster();
      const watcher = await WireClient.open(url("deno"));
      const watcherWelcome = await watcher.welcome();
      const talker = await TestClient.open(url("bun"));
      const mover = await WireClient.open(url("node"));
      const moverWelcome = await mover.welcome();
      expect(moverWelcome.epoch).toBe(watcherWelcome.epoch);

      for (let n = 0; n < 10; n++) talker.send(`move ${n}`);
      await mover.until((data) => data.endsWith(": move 4"));
      await mover.client.close();
      const before = mover.messages();
      const lastSeq = before.at(-1)!.seq;

      for (let n = 10; n < 20; n++) talker.send(`move ${n}`);
      await watcher.until((data) => data.endsWith(": move 19"));
      const moved = await WireClient.open(url("bun"), `${moverWelcome.epoch}.${lastSeq}`);
      const movedWelcome = await moved.welcome();
      expect(movedWelcome.epoch).toBe(moverWelcome.epoch);
      await moved.until((data) => data.endsWith(": move 19"));
      // Compare once the watcher (on another process) is as far as the moved client can be.
      const movedJoin = `User ${movedWelcome.id} joined the chat`;
      await moved.untilText(movedJoin);
      await watcher.untilText(movedJoin);

      // Over the wire: before and after the move, every number once, consecutive.
      const received = [...before, ...moved.messages()];
      const seqs = received.map((m) => m.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      // And the same texts under the same numbers as the client that stayed.
      const watched = new Map(watcher.messages().map((m) => [m.seq, m.data]));
      for (const m of received) expect(watched.get(m.seq)).toBe(m.data);
      const texts = received.map((m) => m.data).filter((d) => / move \d+$/.test(d));
      expect(texts.map((d) => d.replace(/^.*: /, ""))).toEqual(
        Array.from({ length: 20 }, (_, n) => `move ${n}`),
      );
      await Promise.all([watcher.client.close(), talker.close(), moved.client.close()]);
    });
    test("startChatServer({ redis }), what `polysocket chat --redis` runs, serves the same room", async () => {
      await cluster(["deno"]);
      const chat = await startChatServer({
        port: 0,
        hostname: "127.0.0.1",
        redis: redis.url,
        room,
        historyLimit: 100,
        onError: () => undefined,
      });
      try {
        const here = await TestClient.open(`ws://127.0.0.1:${chat.port}/chat`);
        const there = await TestClient.open(url("deno"));
        here.send("from the in-process server");
        await there.nextUntil((m) => m.endsWith(": from the in-process server"));
        there.send("from the deno process");
        await here.nextUntil((m) => m.endsWith(": from the deno process"));
        await Promise.all([here.close(), there.close()]);
      } finally {
        await chat.close();
      }
    });

    test("a process paused past deadAfter: its user is announced gone, then back once it resumes", async () => {
      await cluster(["node", "deno"]);
      const watcher = await WireClient.open(url("node"));
      await watcher.welcome();
      const sleeper = await TestClient.open(url("deno"));
      sleeper.send("going to sleep");
      const echo = await sleeper.nextUntil((m) => m.endsWith(": going to sleep"));
      const sleeperId = /^User (\S+): /.exec(echo)![1]!;
      await watcher.untilText(echo);

      const deno = servers.get("deno")!.process;
      deno.signal("SIGSTOP");
      try {
        // deadAfter is 5 s, heartbeats every 1 s.
        await watcher.untilText(`User ${sleeperId} left the chat`, 15_000);
      } finally {
        deno.signal("SIGCONT");
      }
      await watcher.untilText(`User ${sleeperId} joined the chat`, 10_000);
      await watcher.presence([sleeperId]);
      // Its connection survived the pause.
      sleeper.send("awake");
      await watcher.untilText(`User ${sleeperId}: awake`);
      await Promise.all([watcher.client.close(), sleeper.close()]);
    });

    test("presence spans every process; the users of a SIGKILLed process are announced gone, once, within seconds", async () => {
      await cluster();
      const node = await WireClient.open(url("node"));
      const bun = await WireClient.open(url("bun"));
      const victim = await WireClient.open(url("deno"));
      const ids = await Promise.all([node, bun, victim].map(async (c) => (await c.welcome()).id!));
      await node.presence(ids);
      await bun.presence(ids);

      const killedAt = Date.now();
      await servers.get("deno")!.process.stop("SIGKILL");
      const gone = `User ${ids[2]} left the chat`;
      await node.untilText(gone, 10_000);
      // Heartbeats every 1 s, dead after 5 s without one: noticed well within 10 s.
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      await node.presence(ids.slice(0, 2), ids.slice(2));
      await bun.presence(ids.slice(0, 2), ids.slice(2));
      // Every beat looks for the dead process's members, in both survivors. Once each has
      // beaten since the leave was stored, any second leave is in the stream already:
      // it would reach the clients before a message sent after that.
      const stored = await redis.now();
      await until(async () => {
        // One heartbeat per process, for every room (src/redis/heartbeat.ts).
        const beats = await redis.inspect().zrange("polysocket:processes", "0", "-1", "WITHSCORES");
        const deadlines = beats.filter((_, i) => i % 2 === 1).map(Number);
        return deadlines.length === 2 && deadlines.every((deadline) => deadline - 5000 >= stored);
      }, "a heartbeat from both surviving processes after the leave");
      node.say("after both beats");
      for (const client of [node, bun]) {
        await client.until(
          (data) => data.endsWith(": after both beats"),
          "the message sent after both beats",
        );
        expect(client.messages().filter((m) => m.data === gone)).toHaveLength(1);
      }
      await Promise.all([node.client.close(), bun.client.close()]);
    });

    test("Redis restarted with its data mid-chat: a message sent during the outage is delivered after it, numbering goes on", async (ctx) => {
      if (!redis.owned) ctx.skip(); // the Redis at REDIS_URL is not ours to restart
      await cluster(["node", "bun"]);
      const plain = await TestClient.open(url("node"));
      plain.send("before the outage");
      const echo = await plain.nextUntil((m) => m.endsWith(": before the outage"));
      const plainId = /^User (\S+): /.exec(echo)![1]!;
      const wire = await WireClient.open(url("bun"));
      const { epoch, id: wireId } = await wire.welcome();
      await wire.untilText(echo);
      await wire.untilText(`User ${wireId} joined the chat`);
      const lastSeq = wire.messages().at(-1)!.seq;

      await redis.stop({ save: true });
      const during = `User ${plainId}: during the outage`;
      await sendDuringOutage(plain, "during the outage");
      expect(plain.messages, "nothing delivered while Redis is down").not.toContain(during);
      await redis.restart({ keep: true });

      // Delivered after the outage, to both processes' clients, numbered on from where the room was.
      await plain.nextUntil((m) => m === during, JSON.stringify(during), 10_000);
      await wire.untilText(during, 10_000);
      const numbered = wire.messages().filter((m) => m.seq > lastSeq);
      expect(numbered.map((m) => m.seq)).toEqual(numbered.map((_, i) => lastSeq + 1 + i));
      expect(numbered.at(-1)!.data).toBe(during);
      // Same room: no restart, the resumable client stayed connected.
      const again = await WireClient.open(url("node"), `${epoch}.${lastSeq}`);
      expect((await again.welcome()).epoch).toBe(epoch);
      await again.untilText(during);
      expect(wire.client.socket.readyState).toBe(1); // OPEN
      await Promise.all([plain.close(), wire.client.close(), again.client.close()]);
    });

    test("Redis restarted empty mid-chat: clients stay, the outage is reported, a message sent during it is refused to its sender, the room starts over", async (ctx) => {
      if (!redis.owned) ctx.skip(); // the Redis at REDIS_URL is not ours to restart
      await cluster(["node", "bun"]);
      const plain = await TestClient.open(url("node"));
      plain.send("before the restart");
      const echo = await plain.nextUntil((m) => m.endsWith(": before the restart"));
      const plainId = /^User (\S+): /.exec(echo)![1]!;
      const wire = await WireClient.open(url("bun"));
      const { epoch: oldEpoch, id: wireId } = await wire.welcome();
      await wire.untilText(`User ${wireId} joined the chat`);
      const lastSeq = wire.messages().at(-1)!.seq;

      await redis.stop();
      await sendDuringOutage(plain, "during the outage");
      await redis.restart(); // empty: no persistence

      // Refused, not lost, not numbered in a new room as if nothing happened.
      const verdict = await plain.nextUntil(
        (m) => m.startsWith("Message not delivered") || m.endsWith("outage"),
        "the verdict on the message sent during the outage",
        10_000,
      );
      expect(verdict).toMatch(/^Message not delivered: POLYSOCKET_EPOCH the room restarted in Redis/);
      // The resumable client is sent off to reconnect; the plain one stays and is announced again.
      expect((await wire.client.closed).code).toBe(1012);
      await plain.nextUntil(
        (m) => m === `User ${plainId} joined the chat`,
        "the plain client announced again",
      );
      plain.send("after the restart");
      await plain.nextUntil(
        (m) => m === `User ${plainId}: after the restart`,
        "its message after the restart",
      );

      // Resuming with the old epoch: a welcome in the new one, numbering from 1.
      const back = await WireClient.open(url("bun"), `${oldEpoch}.${lastSeq}`);
      const welcome = await back.welcome();
      expect(welcome.epoch).not.toBe(oldEpoch);
      await back.untilText(`User ${plainId}: after the restart`);
      expect(back.messages()[0]!.seq).toBe(1);
      const reported = servers.get("node")!.process.stderr + servers.get("bun")!.process.stderr;
      expect(reported).toMatch(/lost its data in Redis: started over as epoch/);
      await Promise.all([plain.close(), back.client.close()]);
    });
  },
);

/**
 * Sends `text` from a plain client while Redis is down, then an empty message, which
 * the server refuses by itself (no Redis involved): once that refusal is back, the
 * server has taken `text` too (a connection's messages are handled in order).
 */
async function sendDuringOutage(client: TestClient, text: string): Promise<void> {
  client.send(text);
  client.send("");
  await client.nextUntil((m) => m === "Invalid message: message is empty", "the refusal of the empty probe");
}

/** Polls `probe` every 50 ms until it holds; fails after `ms`, naming `what`. */
async function until(probe: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`expected ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
