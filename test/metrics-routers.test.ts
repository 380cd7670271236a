/**
 * The scrape handler in the routers docs/metrics.md shows, on Node: Hono
 * (`scrape(c.req.raw)`, served by @hono/node-server) and Express (the registry
 * read in a route), each scraped over HTTP and parsed as Prometheus text after
 * a polysocket server observed by the same metrics took a connection.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { afterAll, expect, test } from "vitest";
import { Server } from "../src/adapters/node/index.ts";
import { prometheusMetrics } from "../src/metrics/index.ts";
import { TestClient } from "./harness/client.ts";
import { Scrape } from "./harness/prometheus.ts";

const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** A polysocket server observed by `observer`, with one client that sent "hello" and got it back. */
async function oneEcho(observer: ReturnType<typeof prometheusMetrics>["observer"]): Promise<void> {
  const server = new Server({
    hostname: "127.0.0.1",
    heartbeat: false,
    metrics: observer,
    onMessage: (conn, message) => void conn.send(message),
  });
  const { port } = await server.listen();
  closers.push(() => server.close());
  const client = await TestClient.open(`ws://127.0.0.1:${port}/`);
  closers.push(() => client.socket.terminate());
  client.send("hello");
  expect(await client.nextText()).toBe("hello");
}

/** GET `url`; its status, content type and parsed scrape. */
async function scrape(url: string) {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    scrape: new Scrape(await response.text()),
  };
}

test("Hono: app.get('/metrics', (c) => metrics.scrape(c.req.raw)) serves the exposition", async () => {
  const metrics = prometheusMetrics();
  await oneEcho(metrics.observer);
  const app = new Hono();
  app.get("/metrics", (c) => metrics.scrape(c.req.raw));
  const port = await new Promise<number>((resolve) => {
    const http = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(info.port));
    closers.push(() => new Promise((done) => http.close(done)));
  });
  const got = await scrape(`http://127.0.0.1:${port}/metrics`);
  expect([got.status, got.type]).toEqual([200, metrics.registry.contentType]);
  expect(got.scrape.value("polysocket_connections")).toBe(1);
  expect(got.scrape.value("polysocket_messages_sent_total")).toBe(1);
  expect(got.scrape.value("polysocket_sent_bytes_total")).toBe(5);
});

test("Express: a route that sends registry.metrics() with registry.contentType", async () => {
  const metrics = prometheusMetrics();
  await oneEcho(metrics.observer);
  const app = express();
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const http = app.listen(0, "127.0.0.1");
  closers.push(() => new Promise((done) => http.close(done)));
  await new Promise((resolve) => http.once("listening", resolve));
  const got = await scrape(`http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`);
  expect([got.status, got.type]).toEqual([200, metrics.registry.contentType]);
  expect(got.scrape.value("polysocket_messages_received_total")).toBe(1);
  expect(got.scrape.value("polysocket_received_bytes_total")).toBe(5);
});
