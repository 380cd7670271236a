/**
 * Prometheus exposition through prom-client: the instruments of
 * instruments.ts in a registry, and a scrape handler of web-standard
 * `Request`/`Response` for the server's `onRequest` or any router.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MetricsObserver } from "../core/observer.ts";
import {
  COUNTED,
  type CountedInstrument,
  type DurationInstrument,
  STORE_PUBLISH,
  STORE_READ_LAG,
} from "./instruments.ts";
import { observerOf, Tally } from "./tally.ts";

/**
 * What polysocket/metrics uses of a prom-client `Registry`, described
 * structurally so its published types need no prom-client types: any
 * prom-client 15 `Registry` fits.
 */
export interface PrometheusRegistry {
  /** The exposition text of every metric registered. */
  metrics(): Promise<string>;
  /** The text's content type, `text/plain; version=0.0.4; charset=utf-8` by default. */
  readonly contentType: string;
}

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /**
   * A prom-client `Registry` to register the instruments in, e.g. prom-client's
   * global `register` to serve them beside `collectDefaultMetrics()`. Default: a new one.
   */
  registry?: PrometheusRegistry;
  /** The path {@link PrometheusMetrics.onRequest} answers. Default `"/metrics"`. */
  path?: string;
}

/** What {@link prometheusMetrics} returns: the observer for the server and the ways to scrape it. */
export interface PrometheusMetrics {
  /** Pass as the server's `metrics` option (one set of metrics may observe several servers). */
  readonly observer: MetricsObserver;
  /** The registry holding the instruments (`await registry.metrics()` is the exposition text). */
  readonly registry: PrometheusRegistry;
  /** Answers a scrape: the exposition text for GET, headers only for HEAD, 405 for any other method. */
  scrape(request?: Request): Promise<Response>;
  /** A server `onRequest`: scrapes on `path`, `undefined` (polysocket's own answer) elsewhere. */
  onRequest(request: Request): Promise<Response | undefined>;
}

/**
 * Prometheus metrics for polysocket servers: counters and gauges of
 * connections, messages and bytes, refusals, backpressure, heartbeats, topics
 * and rooms (docs/metrics.md lists them). Counting costs an addition per
 * event; prom-client reads the counts at each scrape. Throws prom-client's
 * error if the registry already has instruments of these names.
 *
 * @example
 * ```ts run=open
 * import { Server } from "polysocket";
 * import { prometheusMetrics } from "polysocket/metrics";
 *
 * const metrics = prometheusMetrics();
 * const server = new Server({ port: 8080, metrics: metrics.observer, onRequest: metrics.onRequest });
 * await server.listen(); // curl http://127.0.0.1:8080/metrics
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  // Typed structurally in the API; what prom-client's metrics register in is its own Registry.
  const registry = (options.registry ?? new Registry()) as Registry;
  const path = options.path ?? "/metrics";
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`options.path must be a string starting with "/", got ${String(path)}`);
  }
  const tally = new Tally({
    storePublished: (seconds) => publish.observe(seconds),
    storeRead: (seconds) => lag.observe(seconds),
  });
  for (const spec of COUNTED) counted(spec, tally, registry);
  // After the counters, so the exposition lists them first.
  const publish = histogram(STORE_PUBLISH, registry);
  const lag = histogram(STORE_READ_LAG, registry);
  const scrape = (request?: Request) => answer(registry, request);
  return {
    observer: observerOf(tally),
    registry,
    scrape,
    onRequest: async (request) => (pathOf(request.url) === path ? scrape(request) : undefined),
  };
}

/** Registers one counter or gauge whose value is read from the tally at each scrape. */
function counted(spec: CountedInstrument, tally: Tally, registry: Registry): void {
  const config = {
    name: spec.prometheus,
    help: spec.help,
    labelNames: spec.label ? [spec.label] : [],
    registers: [registry],
  };
  const value = () => spec.read(tally);
  if (spec.kind === "counter") {
    new Counter({
      ...config,
      collect(this: Counter) {
        this.reset();
        report(value(), spec.label, (n, labels) => (labels ? this.inc(labels, n) : this.inc(n)));
      },
    });
  } else {
    new Gauge({
      ...config,
      collect(this: Gauge) {
        this.reset();
        report(value(), spec.label, (n, labels) => (labels ? this.set(labels, n) : this.set(n)));
      },
    });
  }
}

/** Hands a plain value, or each labelled value, to `put`. */
function report(
  value: number | ReadonlyMap<string | number, number>,
  label: string | undefined,
  put: (n: number, labels?: Record<string, string>) => void,
): void {
  if (typeof value === "number") put(value);
  else for (const [key, n] of value) put(n, { [label as string]: String(key) });
}

function histogram(spec: DurationInstrument, registry: Registry): Histogram {
  return new Histogram({
    name: spec.prometheus,
    help: spec.help,
    buckets: [...spec.buckets],
    registers: [registry],
  });
}

async function answer(registry: Registry, request: Request | undefined): Promise<Response> {
  const method = request?.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") {
    return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const text = await registry.metrics();
  return new Response(method === "HEAD" ? null : text, { headers: { "content-type": registry.contentType } });
}

/** The path of a request's URL (absolute, as `Request.url` always is). */
function pathOf(url: string): string {
  return new URL(url).pathname;
}
