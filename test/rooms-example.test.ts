/**
 * examples/rooms.ts as a process on Node, Bun and Deno, driven by real
 * `polysocket/client` instances in this process: token auth at the upgrade,
 * two clients in two rooms each, nicknames in presence, and a network drop
 * (through a TCP proxy) after which each room resumes exactly once.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Client, type ClientEvents, connect } from "../src/client/index.ts";
import { CutProxy } from "./harness/cut-proxy.ts";
import { within } from "./harness/deadline.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { redisUnavailable, TestRedis } from "./harness/redis.ts";
import { record } from "./harness/room-recorder.ts";
import { RUNTIMES } from "./harness/runtimes.ts";

const STARTED = /^Rooms chat server started on ws:\/\/localhost:(\d+)\/rooms$/;
const FAST = { minDelay: 10, maxDelay: 50, heartbeatInterval: 0 };

/** Resolves with the client's final close (no retry), or fails naming what it saw instead. */
function finalClose(client: Client): Promise<ClientEvents["close"]> {
  const seen: ClientEvents["close"][] = [];
  return within(
    new Promise((resolve) =>
      client.on("close", (event) => {
        seen.push(event);
        if (!event.willRetry) resolve(event);
      }),
    ),
    5000,
    () => `expected a final close; saw ${JSON.stringify(seen)}`,
  );
}

/** The `{ from, text }` messages among `data`, as "from: text". */
const said = (data: unknown[]) =>
  data.flatMap((d) =>
    typeof d === "object" && d !== null
      ? [`${(d as { from: string }).from}: ${(d as { text: string }).text}`]
      : [],
  );

describe.each(RUNTIMES)("examples/rooms.ts on %s", (runtime) => {
  let server: RuntimeProcess;
  let port: number;
  const clients: Client[] = [];
  const open = (url: string) => {
    const client = connect(url, FAST);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = new RuntimeProcess(runtime, "examples/rooms.ts", { PORT: "0" });
    port = Number(STARTED.exec(await server.waitForLine((l) => STARTED.test(l), "the start banner"))![1]);
  }, 30_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.stop("SIGKILL");
  });

  test("a missing or unknown token is refused with 4401 and the client stops", async () => {
    for (const query of ["", "?token=nobody"]) {
      const client = open(`ws://127.0.0.1:${port}/rooms${query}`);
      const room = record(client.join("lobby"));
      const close = await finalClose(client);
      expect(close, `refusal of ${query || "no token"}`).toMatchObject({
        code: 4401,
        reason: "unknown token",
      });
      expect(room.of("joined")).toEqual([]);
    }
  });

  test("two clients in two rooms each: messages stay in their room; presence shows nicknames", async () => {
    const alice = open(`ws://127.0.0.1:${port}/rooms?token=alice-token`);
    const bob = open(`ws://127.0.0.1:${port}/rooms?token=bob-token`);
    const aLobby = record(alice.join("lobby"));
    const aRandom = record(alice.join("random"));
    const aStaff = record(alice.join("staff"));
    await aLobby.wait("joined");
    const bLobby = record(bob.join("lobby"));
    const bGames = record(bob.join("games"));
    await bLobby.wait("joined");
    await bGames.wait("joined");
    await aRandom.wait("joined");

    // Each publish resolves with its seq once stored (after at least the room's "… joined" message).
    await expect(alice.rooms.find((r) => r.name === "lobby")!.publish("hi lobby")).resolves.toBeGreaterThan(
      1,
    );
    await expect(
      alice.rooms.find((r) => r.name === "random")!.publish("only random"),
    ).resolves.toBeGreaterThan(1);
    await expect(bob.rooms.find((r) => r.name === "games")!.publish("only games")).resolves.toBeGreaterThan(
      1,
    );
    await bLobby.until((data) => said(data).length === 1, "alice's message");
    await aRandom.wait("message", 2); // "alice joined random", then hers
    await bGames.wait("message", 2);
    expect(said(bLobby.data())).toEqual(["alice: hi lobby"]);
    expect(said(aRandom.data())).toEqual(["alice: only random"]);
    expect(said(bGames.data())).toEqual(["bob: only games"]);
    expect(said(aLobby.data())).toEqual(["alice: hi lobby"]);

    const lobbyNicks = (await aLobby.wait("presence", 2))
      .at(-1)!
      .online.map((m) => (m as { nick: string }).nick);
    expect(lobbyNicks.sort()).toEqual(["alice", "bob"]);
    expect(bLobby.of("presence").at(-1)!.online).toContainEqual({ id: alice.id, nick: "alice" });
    expect((await aStaff.wait("left"))[0]).toEqual({ reason: "staff only" });
    alice.close();
    bob.close();
  });

  test("after a network drop each room resumes from its own point: every message once, in order", async () => {
    const proxy = await CutProxy.start(port);
    try {
      const alice = open(`ws://127.0.0.1:${proxy.port}/rooms?token=alice-token`);
      const carol = open(`ws://127.0.0.1:${port}/rooms?token=carol-token`);
      const lobby = record(alice.join("resume-a"));
      const other = record(alice.join("resume-b"));
      await lobby.wait("joined");
      await other.wait("joined");
      const cLobby = carol.join("resume-a");
      const cOther = carol.join("resume-b");
      const cSeen = record(cLobby);
      const cOtherSeen = record(cOther);
      await cSeen.wait("joined");
      await cOtherSeen.wait("joined");
      cLobby.publish("before");
      await lobby.wait("message", 3); // alice joined, carol joined, carol: before

      proxy.hold = true;
      proxy.cut();
      for (const text of ["away 1", "away 2", "away 3"]) cLobby.publish(text);
      cOther.publish("away in b");
      // Carol sees her three messages stored: alice's lobby will have them to replay.
      await cSeen.until((data) => said(data).includes("carol: away 3"), "carol's third message stored");
      expect(said(lobby.data())).toEqual(["carol: before"]);
      proxy.hold = false;

      await lobby.wait("joined", 2);
      await other.wait("joined", 2);
      void cLobby.publish("after");
      await lobby.until((data) => said(data).includes("carol: after"), "carol's live message");
      await other.until((data) => said(data).includes("carol: away in b"), "the message sent while away");
      expect(said(lobby.data())).toEqual([
        "carol: before",
        "carol: away 1",
        "carol: away 2",
        "carol: away 3",
        "carol: after",
      ]);
      expect(lobby.data().filter((d) => d === "alice left resume-a")).toHaveLength(1);
      expect(lobby.data().filter((d) => d === "alice joined resume-a")).toHaveLength(2);
      for (const room of [lobby, other]) {
        const seqs = room.of("message").map((m) => m.seq);
        expect(seqs, "consecutive, each once").toEqual(seqs.map((_, i) => seqs[0]! + i));
        expect(room.of("gap")).toEqual([]);
        expect(room.of("joined").map((j) => j.rejoin)).toEqual([false, true]);
      }
      alice.close();
      carol.close();
    } finally {
      await proxy.close();
    }
  });
});

const noRedis = redisUnavailable();

describe.skipIf(noRedis !== undefined)(
  "examples/rooms.ts with REDIS_URL: Node, Bun and Deno on one Redis",
  () => {
    let redis: TestRedis;
    const servers = new Map<string, { process: RuntimeProcess; port: number }>();
    const clients: Client[] = [];

    beforeAll(async () => {
      redis = await TestRedis.start();
      await Promise.all(
        RUNTIMES.map(async (runtime) => {
          const process = new RuntimeProcess(runtime, "examples/rooms.ts", {
            PORT: "0",
            REDIS_URL: redis.url,
          });
          const line = await process.waitForLine((l) => STARTED.test(l), `${runtime}'s start banner`);
          servers.set(runtime, { process, port: Number(STARTED.exec(line)![1]) });
        }),
      );
    }, 60_000);
    afterAll(async () => {
      for (const client of clients) client.close();
      await Promise.all([...servers.values()].map((s) => s.process.stop("SIGKILL")));
      await redis?.dispose();
    });

    test("a room spans processes; after a drop a client resumes on another runtime's process, each message once", async () => {
      const room = `spread-${process.pid}-${Date.now()}`;
      const port = (runtime: string) => servers.get(runtime)!.port;
      const proxy = await CutProxy.start(port("node"));
      try {
        const alice = connect(`ws://127.0.0.1:${proxy.port}/rooms?token=alice-token`, FAST);
        const bob = connect(`ws://127.0.0.1:${port("bun")}/rooms?token=bob-token`, FAST);
        clients.push(alice, bob);
        const aRoom = record(alice.join(room));
        const bHandle = bob.join(room);
        const bRoom = record(bHandle);
        await aRoom.wait("joined");
        await bRoom.wait("joined");
        bHandle.publish("from bun");
        await aRoom.until((data) => said(data).includes("bob: from bun"), "bob's message through Redis");
        expect(aRoom.of("presence").at(-1)!.online).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ nick: "alice" }),
            expect.objectContaining({ nick: "bob" }),
          ]),
        );

        proxy.hold = true;
        proxy.cut();
        for (const text of ["away 1", "away 2", "away 3"]) bHandle.publish(text);
        await bRoom.until((data) => said(data).includes("bob: away 3"), "bob's messages stored");
        proxy.target = port("deno");
        proxy.hold = false;
        await aRoom.wait("joined", 2);
        bHandle.publish("after");
        await aRoom.until((data) => said(data).includes("bob: after"), "bob's live message on deno");
        expect(said(aRoom.data())).toEqual([
          "bob: from bun",
          "bob: away 1",
          "bob: away 2",
          "bob: away 3",
          "bob: after",
        ]);
        const seqs = aRoom.of("message").map((m) => m.seq);
        expect(seqs, "consecutive, each once").toEqual(seqs.map((_, i) => seqs[0]! + i));
        expect(aRoom.of("gap")).toEqual([]);
        expect(aRoom.of("joined").map((j) => [j.rejoin, j.epoch])).toEqual([
          [false, aRoom.of("joined")[0]!.epoch],
          [true, aRoom.of("joined")[0]!.epoch],
        ]);
      } finally {
        await proxy.close();
      }
    });
  },
);
