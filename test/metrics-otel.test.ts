/**
 * openTelemetryMetrics with the real OpenTelemetry SDK (MeterProvider, a
 * periodic reader into the SDK's in-memory exporter) on Node: a polysocket
 * server of its own, real `ws` clients, and the exported data points' values.
 */
import {
  AggregationTemporality,
  type DataPoint,
  type HistogramMetricData,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { afterAll, expect, test } from "vitest";
import { Server } from "../src/adapters/node/index.ts";
import { openTelemetryMetrics } from "../src/metrics/index.ts";
import { COUNTED } from "../src/metrics/instruments.ts";
import { TestClient } from "./harness/client.ts";

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
// A long interval: the test exports with forceFlush, never on the timer.
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });
const clients: TestClient[] = [];
afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await provider.shutdown();
});

/** The metrics of the last export, by instrument name. */
async function exported(): Promise<Map<string, MetricData>> {
  exporter.reset();
  await provider.forceFlush();
  const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  return new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
}

/** The value of `name`'s data point with `attributes` (none: the one without). */
function value(
  metrics: Map<string, MetricData>,
  name: string,
  attributes: Record<string, string> = {},
): number {
  const metric = metrics.get(name);
  if (!metric) throw new Error(`no instrument ${name}; got ${[...metrics.keys()].join(", ")}`);
  const points = metric.dataPoints as DataPoint<number>[];
  const point = points.find((p) => JSON.stringify(p.attributes) === JSON.stringify(attributes));
  if (!point)
    throw new Error(`no point of ${name} with ${JSON.stringify(attributes)}: ${JSON.stringify(points)}`);
  return point.value;
}

test("openTelemetryMetrics: the same counts through a real MeterProvider, exported by its reader", async () => {
  const observer = openTelemetryMetrics(provider.getMeter("polysocket-test"));
  let server!: Server;
  let disconnected!: () => void;
  const gone = new Promise<void>((resolve) => {
    disconnected = resolve;
  });
  server = new Server({
    hostname: "127.0.0.1",
    port: 0,
    heartbeat: false,
    metrics: observer,
    onMessage(conn, message) {
      if (message === "/sub") conn.subscribe("t");
      if (message === "/pub") return void server.publish("t", "hi");
      conn.send(message); // "/sub" too: its echo says the subscription is made
    },
    onDisconnect: () => disconnected(),
  });
  const { port } = await server.listen();
  try {
    const url = `ws://127.0.0.1:${port}/`;
    const [a, b] = [await TestClient.open(url), await TestClient.open(url)];
    clients.push(a, b);
    a.send("/sub");
    expect(await a.nextText()).toBe("/sub");
    b.send("hé");
    expect(await b.nextText()).toBe("hé");
    b.send("/pub");
    expect(await a.nextText()).toBe("hi");
    expect((await b.close(4002)).code).toBe(4002);
    await gone;
    observer.storePublished?.(0.003); // what a room store reports (none does yet)

    const after = await exported();
    // Labelled instruments export only the labels they saw (no refusals here).
    for (const spec of COUNTED) if (!spec.label) expect(after.has(spec.otel), spec.otel).toBe(true);
    expect(value(after, "polysocket.connections.opened")).toBe(2);
    expect(value(after, "polysocket.connections")).toBe(1);
    expect(value(after, "polysocket.connections.closed", { code: "4002" })).toBe(1);
    expect(value(after, "polysocket.messages.received")).toBe(3);
    expect(value(after, "polysocket.received.bytes")).toBe(4 + 3 + 4); // "/sub", "hé", "/pub"
    expect(value(after, "polysocket.messages.sent")).toBe(3); // two echoes, one delivery
    expect(value(after, "polysocket.sent.bytes")).toBe(4 + 3 + 2);
    expect(value(after, "polysocket.publishes")).toBe(1);
    expect(value(after, "polysocket.topics")).toBe(1);
    const latency = after.get("polysocket.store.publish.duration") as HistogramMetricData;
    expect(latency.descriptor.unit).toBe("s");
    expect(latency.dataPoints[0]?.value.count).toBe(1);
    expect(after.get("polysocket.connections.opened")?.descriptor.unit).toBe("{connection}");
  } finally {
    await server.close();
  }
});
