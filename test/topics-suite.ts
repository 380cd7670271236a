/**
 * The topics suite: subscribe, publish and their per-connection rules, against
 * the fixture's "topics" scenario in each runtime, with real `ws` clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Fixture, type FixtureEvent } from "./harness/fixture.ts";
import { frame, RawPeer } from "./harness/raw.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

const SIZES = [
  ["4 B", 4],
  ["20 KB", 20_000],
  ["1 MiB", 1024 * 1024 - 64],
] as const;

export function topicsSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] topics`, () => {
    let fixture: Fixture;
    const clients: TestClient[] = [];
    /** A client; with `topic`, subscribed to it (the reply read). */
    const open = async (topic?: string, query = "") => {
      const client = await TestClient.open(`${fixture.url}${query}`);
      clients.push(client);
      if (topic) expect(await command(client, `sub ${topic}`)).toMatchObject({ subscribed: true });
      return client;
    };
    /** Sends a topic command and returns its JSON reply; messages before the reply are skipped. */
    const command = async (client: TestClient, text: string) => {
      client.send(`/t ${text}`);
      for (;;) {
        const message = await client.next();
        if (typeof message === "string" && message.startsWith("{")) return JSON.parse(message);
      }
    };
    const topic = () => `topic-${Math.random().toString(36).slice(2)}`;

    beforeAll(async () => {
      fixture = await Fixture.start(runtime, "topics", variant.env);
    });
    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      await fixture?.process.stop("SIGKILL");
    });

    test("subscribe, isSubscribed, topics, unsubscribe", async () => {
      const name = topic();
      const client = await open();
      expect(await command(client, `sub ${name}`)).toEqual({ subscribed: true, topics: [name] });
      expect(await command(client, `sub ${name}-b`)).toEqual({
        subscribed: true,
        topics: [name, `${name}-b`],
      });
      expect(await command(client, `subs ${name}`)).toEqual({ subscribers: 1 });
      expect(await command(client, `unsub ${name}`)).toEqual({ subscribed: false, topics: [`${name}-b`] });
      expect(await command(client, `subs ${name}`)).toEqual({ subscribers: 0 });
    });

    test("publish reaches every subscriber but `except`, and only them; it returns the count", async () => {
      const name = topic();
      const [a, b, c] = [await open(name), await open(name), await open(name)];
      const outsider = await open();
      expect(await command(outsider, `pub ${name} hello all`)).toEqual({ published: 3 });
      for (const client of [a, b, c]) expect(await client.nextText()).toBe("hello all");
      expect(await command(a, `pub-except ${name} not for a`)).toEqual({ published: 2 });
      for (const client of [b, c]) expect(await client.nextText()).toBe("not for a");
      // Replies come in order: a's next message is the reply to this, so "not for a" never reached it.
      a.send("/t subs none");
      expect(await a.nextText()).toBe(JSON.stringify({ subscribers: 0 }));
      expect(await command(outsider, `subs ${name}`)).toEqual({ subscribers: 3 });
      expect(outsider.messages.filter((m) => typeof m !== "string" || !m.startsWith("{"))).toEqual([]);
    });

    test("conn.publish skips the sender", async () => {
      const name = topic();
      const [sender, other] = [await open(name), await open(name)];
      expect(await command(sender, `conn-pub ${name} from the sender`)).toEqual({ published: 1 });
      expect(await other.nextText()).toBe("from the sender");
      expect(await command(sender, `subs ${name}`)).toEqual({ subscribers: 2 }); // nothing came before the reply
    });

    test("a closed connection leaves every topic by itself", async () => {
      const name = topic();
      const leaving = await open(name);
      await command(leaving, `sub ${name}-b`);
      const { id } = await leaving.info();
      const staying = await open(name);
      await leaving.close(1000);
      await fixture.waitFor((e: FixtureEvent) => e.ev === "disconnect" && e.id === id, "the disconnect");
      expect(await command(staying, `subs ${name}`)).toEqual({ subscribers: 1 });
      expect(await command(staying, `subs ${name}-b`)).toEqual({ subscribers: 0 });
      expect(await command(staying, `pub ${name} after`)).toEqual({ published: 1 });
    });

    test("direct sends and published messages keep per-connection order, unsplit", async () => {
      const name = topic();
      const client = await open(name);
      client.send(`/t mix ${name} 200`);
      const isMix = (m: unknown): m is string => typeof m === "string" && m.startsWith("mix ");
      while (client.messages.filter(isMix).length < 400) await client.receive(client.messages.length + 1);
      const expected = Array.from({ length: 200 }, (_, i) => [`mix s ${i}`, `mix p ${i}`]).flat();
      expect(client.messages.filter(isMix).map((m) => m.split(" ").slice(0, 3).join(" "))).toEqual(expected);
      const long = client.messages.filter(isMix).filter((m) => m.length === 20_000);
      expect(long, "every 16th message arrives whole").toHaveLength(2 * Math.floor(200 / 16));
    });

    test("a slow reader in a topic is treated by the backpressure policy; the others get everything", async () => {
      const name = topic();
      const slow = await RawPeer.open(fixture.port, `/ws?slow=${name}`);
      const { id: slowId } = await fixture.waitFor((e) => e.ev === "connect" && e.url === `/ws?slow=${name}`);
      slow.write(frame(1, Buffer.from(`/t sub ${name}`)));
      expect((await slow.nextFrame()).payload.toString()).toContain('"subscribed":true');
      slow.socket.pause(); // never reads again
      const fast = await open(name);
      const isFlood = (m: string) => m.startsWith("0 x");
      for (let i = 0; i < 200; i++) {
        fast.send(`/t flood ${name} 1 65536`);
        await fast.nextUntil(isFlood, "the flooded message"); // a reader that keeps up
      }
      const closed = await fixture.waitFor(
        (e) => e.ev === "disconnect" && e.id === slowId,
        "the slow reader's close",
      );
      // Bun's native publish closes a slow subscriber itself and reports only 1006 (docs/runtimes.md).
      const code = runtime === "bun" ? 1006 : 1013;
      expect(closed.code, "the slow reader is closed for backpressure").toBe(code);
      expect(fast.socket.readyState, "the fast reader stays open").toBe(1);
    });

    for (const [label, size] of SIZES) {
      for (const how of ["send", "publish", "broadcast"] as const) {
        test(`a buffer reused after ${how} returned (${label}) delivers each client its own bytes`, async () => {
          const name = topic();
          const driver = await open();
          const receivers = [await open(name), await open(name), await open(name)];
          expect(await command(driver, `reuse ${name} ${how} ${size}`)).toEqual({ reused: how, to: 3 });
          const firstBytes = async (client: TestClient, count: number) => {
            const got: number[] = [];
            while (got.length < count) {
              const message = await client.next();
              if (typeof message === "string") continue;
              expect(message.length).toBe(size);
              expect(message.every((byte) => byte === message[0])).toBe(true);
              got.push(message[0]!);
            }
            return got;
          };
          if (how === "send") {
            expect(await Promise.all(receivers.map((r) => firstBytes(r, 1)))).toEqual([[1], [2], [3]]);
          } else {
            for (const receiver of receivers) expect(await firstBytes(receiver, 3)).toEqual([1, 2, 3]);
          }
        });
      }
    }

    test("a refusal with closeCode: the upgrade is accepted, closed with that code, and no hook runs", async () => {
      const before = fixture.events().filter((e) => e.ev === "connect").length;
      const client = await TestClient.open(`${fixture.url}?refuse-close`);
      expect(await client.closed).toEqual({ code: 4401, reason: "missing token" });
      await expect(TestClient.open(`${fixture.url}?refuse`)).rejects.toMatchObject({ status: 401 });
      const probe = await open(); // a later connection's connect event orders the log
      await probe.info();
      const connects = fixture.events().filter((e) => e.ev === "connect");
      expect(connects.length - before).toBe(1);
    });
  });
}
