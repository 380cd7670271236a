/**
 * The cells two paired benchmarks share (bench/metrics.ts, bench/rooms-paired.ts):
 * for the rounds of one runtime, each side's median rate and per-CPU rate with
 * their ratio (median and per-round range), and each side's server and generator CPU.
 */
import type { Measurement } from "./processes.ts";
import { formatNumber, median } from "./stats.ts";

/** Deliveries (or round trips) per server CPU-second. */
export const perCpu = (m: Measurement): number => m.rate / m.serverCpu;

/** `low–high` of per-round ratios, NaN left out. */
export function range(values: number[]): string {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return `${sorted[0]?.toFixed(2)}–${sorted.at(-1)?.toFixed(2)}`;
}

/** The shared cells of one table row: `| a / b | ratio | a / b per CPU | ratio | server CPU | generator CPU `. */
export function pairCells(first: Measurement[], second: Measurement[]): string {
  const rates = first.map((m, i) => m.rate / second[i]!.rate);
  const cpu = first.map((m, i) => perCpu(m) / perCpu(second[i]!));
  const med = (side: Measurement[], read: (m: Measurement) => number) => median(side.map(read));
  const both = (read: (m: Measurement) => number, show: (n: number) => string) =>
    `${show(med(first, read))} / ${show(med(second, read))}`;
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  return (
    `| ${both((m) => m.rate, formatNumber)} | **${median(rates).toFixed(2)}x** (${range(rates)}) ` +
    `| ${both(perCpu, formatNumber)} | **${median(cpu).toFixed(2)}x** (${range(cpu)}) ` +
    `| ${both((m) => m.serverCpu, pct)} | ${both((m) => m.cpu, pct)} `
  );
}
