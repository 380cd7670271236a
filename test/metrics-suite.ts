/**
 * The metrics suite: a fixture server with Prometheus metrics on
 * (test/fixtures/metrics.ts) runs a scripted workload whose counts are known,
 * then its /metrics endpoint is scraped over HTTP and the text parsed with a
 * Prometheus text-format parser; every count must be exact, on every runtime.
 */
import { afterAll, describe, expect, test } from "vitest";
import { COUNTED } from "../src/metrics/instruments.ts";
import { TestClient } from "./harness/client.ts";
import { EventLog } from "./harness/event-log.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { Scrape } from "./harness/prometheus.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

/** What each client sends to be echoed, and their UTF-8 sizes (10 + 13 + 3 + 4 bytes). */
const ECHOES = ["xxxxxxxxxx", "héllo wörld", "€", "🙂"];
const ECHO_BYTES = 30;
const utf8 = (text: string) => new TextEncoder().encode(text).length;

export function metricsSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] metrics`, () => {
    const fixtures: EventLog[] = [];
    const clients: TestClient[] = [];
    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      await Promise.all(fixtures.map((fixture) => fixture.process.stop("SIGKILL")));
    });

    const start = async () => {
      const fixture = new EventLog(new RuntimeProcess(runtime, "test/fixtures/metrics.ts", variant.env));
      fixtures.push(fixture);
      const { port } = await fixture.waitFor((e) => e.ev === "listening", "listening");
      return { fixture, port: port as number };
    };
    const open = async (url: string) => {
      const client = await TestClient.open(url);
      clients.push(client);
      return client;
    };
    const refusedWith = (url: string) =>
      TestClient.open(url).then(
        (client) => {
          clients.push(client);
          return "opened";
        },
        (error: Error & { status?: number }) => error.status,
      );

    test("a scripted workload's counts, scraped over HTTP and parsed as Prometheus text, are exact", async () => {
      const { fixture, port } = await start();
      const url = `ws://127.0.0.1:${port}/ws`;
      const [a, b, c] = [await open(url), await open(url), await open(url)] as [
        TestClient,
        TestClient,
        TestClient,
      ];
      for (const client of [a, b, c]) {
        for (const text of ECHOES) {
          client.send(text);
          expect(await client.nextText()).toBe(text);
        }
      }
      for (const subscriber of [a, b]) {
        subscriber.send("/sub");
        expect(await subscriber.nextText()).toBe("subscribed");
      }
      c.send("/pub hello");
      expect(await c.nextText()).toBe("published 2");
      expect([await a.nextText(), await b.nextText()]).toEqual(["hello", "hello"]);
      c.send("!nope");
      expect(await c.nextText()).toBe("Invalid message: bad");
      expect(await refusedWith(`${url}?refuse`), "onUpgrade's refusal").toBe(401);
      // Another path is a 404 like any unknown URL, not a refusal (Node's adapter answers it unrouted).
      expect(await refusedWith(`ws://127.0.0.1:${port}/nope`), "an upgrade to another path").toBe(404);
      a.send("/close 4000");
      expect((await a.closed).code).toBe(4000);
      expect((await c.close(4001)).code).toBe(4001);
      await fixture.waitForCount((e) => e.ev === "disconnect", 2, "disconnects");

      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const scrape = new Scrape(await response.text());

      expect(scrape.value("polysocket_connections_opened_total")).toBe(3);
      expect(scrape.value("polysocket_connections"), "b is still open").toBe(1);
      expect(scrape.byLabel("polysocket_connections_closed_total", "code")).toEqual({ 4000: 1, 4001: 1 });
      // Received: 4 echoes each, two /sub, one /pub, one refused, one /close.
      const received = ["/sub", "/sub", "/pub hello", "!nope", "/close 4000"];
      expect(scrape.value("polysocket_messages_received_total")).toBe(3 * ECHOES.length + received.length);
      expect(scrape.value("polysocket_received_bytes_total")).toBe(
        3 * ECHO_BYTES + received.reduce((sum, text) => sum + utf8(text), 0),
      );
      // Sent: the echoes, two "subscribed", the publish's 2 deliveries, "published 2", the refusal's reply.
      const replies = ["subscribed", "subscribed", "published 2", "Invalid message: bad"];
      expect(scrape.value("polysocket_messages_sent_total")).toBe(3 * ECHOES.length + 2 + replies.length);
      expect(scrape.value("polysocket_sent_bytes_total")).toBe(
        3 * ECHO_BYTES + 2 * utf8("hello") + replies.reduce((sum, text) => sum + utf8(text), 0),
      );
      expect(scrape.value("polysocket_publishes_total")).toBe(1);
      expect(scrape.byLabel("polysocket_refusals_total", "reason")).toEqual({
        rejected: 1,
        invalid_message: 1,
      });
      expect(scrape.value("polysocket_topics")).toBe(1);
      expect(scrape.value("polysocket_topic_subscriptions"), "a left the topic when it closed").toBe(1);
      for (const zero of [
        "polysocket_backpressure_drops_total",
        "polysocket_backpressure_closes_total",
        "polysocket_heartbeat_timeouts_total",
        "polysocket_rooms",
        "polysocket_room_members",
        "polysocket_store_reconnects_total",
      ]) {
        expect(scrape.value(zero), zero).toBe(0);
      }
      for (const spec of COUNTED) {
        expect(scrape.families.get(spec.prometheus)?.type, spec.prometheus).toBe(spec.kind.toUpperCase());
      }
      expect(scrape.families.get("polysocket_store_publish_seconds")?.type).toBe("HISTOGRAM");
    });

    test("the scrape endpoint: HEAD has no body, POST is 405, other paths keep polysocket's 404", async () => {
      const { port } = await start();
      const base = `http://127.0.0.1:${port}`;
      const head = await fetch(`${base}/metrics`, { method: "HEAD" });
      expect([head.status, await head.text()]).toEqual([200, ""]);
      const post = await fetch(`${base}/metrics`, { method: "POST" });
      expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
      expect((await fetch(`${base}/other`)).status).toBe(404);
      const scrape = new Scrape(await (await fetch(`${base}/metrics`)).text());
      expect(
        scrape.byLabel("polysocket_refusals_total", "reason"),
        "plain requests are not refusals",
      ).toEqual({});
    });
  });
}
