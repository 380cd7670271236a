/**
 * The same instruments through the OpenTelemetry metrics API: observable
 * counters and up-down counters read from the tally at each collection, and
 * histograms for the room stores' durations. The meter comes from the
 * application's own SDK; it is typed structurally (the part of the API's
 * `Meter` used here), so nothing of `@opentelemetry/api` is imported.
 */
import type { MetricsObserver } from "../core/observer.ts";
import { COUNTED, type DurationInstrument, STORE_PUBLISH, STORE_READ_LAG } from "./instruments.ts";
import { observerOf, Tally } from "./tally.ts";

/** What the instruments are made with (the API's `MetricOptions`). */
export interface OpenTelemetryInstrumentOptions {
  /** The instrument's description. */
  description?: string;
  /** Its unit (UCUM), e.g. `By` or `s`. */
  unit?: string;
  /** Histogram bucket boundaries. */
  advice?: { explicitBucketBoundaries?: number[] };
}

/** Where an observable instrument's callback reports (the API's `ObservableResult`). */
export interface OpenTelemetryObservableResult {
  /** Reports `value`, for `attributes` if given. */
  observe(value: number, attributes?: Record<string, string>): void;
}

/** An observable counter or up-down counter (the API's `Observable`). */
export interface OpenTelemetryObservable {
  /** Runs `callback` at each collection. */
  addCallback(callback: (result: OpenTelemetryObservableResult) => void): void;
}

/** A histogram (the API's `Histogram`). */
export interface OpenTelemetryHistogram {
  /** Records one value. */
  record(value: number): void;
}

/** The part of `@opentelemetry/api`'s `Meter` that is used: any `Meter` of API 1.7 or later fits. */
export interface OpenTelemetryMeter {
  /** Makes an observable counter. */
  createObservableCounter(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryObservable;
  /** Makes an observable up-down counter. */
  createObservableUpDownCounter(
    name: string,
    options?: OpenTelemetryInstrumentOptions,
  ): OpenTelemetryObservable;
  /** Makes a histogram. */
  createHistogram(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryHistogram;
}

/**
 * OpenTelemetry metrics for polysocket servers, on `meter` (from your
 * `MeterProvider`, e.g. `metrics.getMeter("polysocket")`). Returns the observer
 * to pass as the server's `metrics` option. Instrument names are listed in
 * docs/metrics.md (`polysocket.connections`, `polysocket.messages.sent`, ...).
 *
 * @example
 * ```ts
 * import { metrics } from "@opentelemetry/api";
 * import { Server } from "polysocket";
 * import { openTelemetryMetrics } from "polysocket/metrics";
 *
 * const server = new Server({ port: 8080, metrics: openTelemetryMetrics(metrics.getMeter("polysocket")) });
 * ```
 */
export function openTelemetryMetrics(meter: OpenTelemetryMeter): MetricsObserver {
  if (typeof meter?.createObservableCounter !== "function") {
    throw new TypeError("openTelemetryMetrics(meter) needs an OpenTelemetry Meter");
  }
  const publish = histogram(meter, STORE_PUBLISH);
  const lag = histogram(meter, STORE_READ_LAG);
  const tally = new Tally({
    storePublished: (seconds) => publish(seconds),
    storeRead: (seconds) => lag(seconds),
  });
  for (const spec of COUNTED) {
    const options = { description: spec.help, unit: spec.unit };
    const instrument =
      spec.kind === "counter"
        ? meter.createObservableCounter(spec.otel, options)
        : meter.createObservableUpDownCounter(spec.otel, options);
    instrument.addCallback((result) => observe(result, spec.read(tally), spec.label));
  }
  return observerOf(tally);
}

function observe(
  result: OpenTelemetryObservableResult,
  value: number | ReadonlyMap<string | number, number>,
  label: string | undefined,
): void {
  if (typeof value === "number") result.observe(value);
  else for (const [key, n] of value) result.observe(n, { [label as string]: String(key) });
}

function histogram(meter: OpenTelemetryMeter, spec: DurationInstrument): (seconds: number) => void {
  const instrument = meter.createHistogram(spec.otel, {
    description: spec.help,
    unit: "s",
    advice: { explicitBucketBoundaries: [...spec.buckets] },
  });
  return (seconds) => instrument.record(seconds);
}
