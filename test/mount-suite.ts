/**
 * Mounting: two polysocket servers in one host server of a runtime, beside the
 * host's own page (test/fixtures/mounted.ts). The shared suites run against a
 * mounted server too (test/mounted.test.ts); these cases are about the host.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Fixture } from "./harness/fixture.ts";
import { RuntimeProcess } from "./harness/process.ts";
import type { Runtime } from "./harness/runtimes.ts";

export function mountSuite(runtime: Runtime): void {
  describe(`[${runtime}] mounted into a host server`, () => {
    let fixture: Fixture;
    const clients: TestClient[] = [];
    const open = async (path: string) => {
      const client = await TestClient.open(`ws://127.0.0.1:${fixture.port}${path}`);
      clients.push(client);
      return client;
    };
    const nameOf = async (client: TestClient) => {
      client.send("/name");
      return client.nextText();
    };

    beforeAll(async () => {
      fixture = new Fixture(new RuntimeProcess(runtime, "test/fixtures/mounted.ts", {}));
      fixture.port = (await fixture.waitFor((e) => e.ev === "listening", "listening")).port as number;
    });
    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      await fixture?.process.stop("SIGKILL");
    });

    test("the host's own page and two polysocket servers share one port", async () => {
      const page = await fetch(`${fixture.http}/app`);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe("the host app");
      expect(await nameOf(await open("/a"))).toBe("a");
      expect(await nameOf(await open("/b"))).toBe("b");
    });

    test("an upgrade for a path no server takes gets 404; a plain request on a server's path 426", async () => {
      await expect(TestClient.open(`ws://127.0.0.1:${fixture.port}/nowhere`)).rejects.toMatchObject({
        status: 404,
      });
      expect((await fetch(`${fixture.http}/a`)).status).toBe(426);
    });

    test("a mounted server sees the real peer address", async () => {
      const client = await open("/b");
      await nameOf(client);
      const connect = fixture.events().findLast((e) => e.ev === "connect" && e.server === "b");
      expect(connect?.address).toBe("127.0.0.1");
    });

    test("close() of one server: 1001 to its clients, 503 on its path after; the host and the other carry on", async () => {
      const onA = await open("/a");
      const onB = await open("/b");
      onA.send("/close-a");
      expect(await onA.closed).toEqual({ code: 1001, reason: "server shutting down" });
      await fixture.waitFor((e) => e.ev === "closed" && e.server === "a", "server a closed");
      await expect(TestClient.open(`ws://127.0.0.1:${fixture.port}/a`)).rejects.toMatchObject({
        status: 503,
      });
      expect(await nameOf(onB)).toBe("b");
      expect(await (await fetch(`${fixture.http}/app`)).text()).toBe("the host app");
      expect(await nameOf(await open("/b"))).toBe("b");
    });
  });
}
