/**
 * polysocket/metrics: a server's counters and gauges (connections, messages
 * and bytes, refusals, backpressure, heartbeat timeouts, topics, rooms) as a
 * Prometheus scrape endpoint through prom-client, or through the OpenTelemetry
 * metrics API. Both are optional peer dependencies: install the one you use
 * (this entry imports `prom-client`, so it must be installed either way).
 *
 * @example
 * ```ts run=open
 * import { Server } from "polysocket";
 * import { prometheusMetrics } from "polysocket/metrics";
 *
 * const metrics = prometheusMetrics();
 * const server = new Server({
 *   port: 8080,
 *   metrics: metrics.observer,
 *   onRequest: metrics.onRequest, // GET /metrics
 * });
 * await server.listen();
 * ```
 * @module
 */
export type { MetricsObserver, RefusalReason } from "../core/observer.ts";
export {
  type OpenTelemetryHistogram,
  type OpenTelemetryInstrumentOptions,
  type OpenTelemetryMeter,
  type OpenTelemetryObservable,
  type OpenTelemetryObservableResult,
  openTelemetryMetrics,
} from "./opentelemetry.ts";
export {
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
  type PrometheusRegistry,
  prometheusMetrics,
} from "./prometheus.ts";
