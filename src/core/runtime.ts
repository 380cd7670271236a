/** The JavaScript runtimes polysocket binds to. */
export type RuntimeName = "node" | "bun" | "deno";

/** Which runtime this code runs on, told apart by their globals (Bun and Deno also define `process`). */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}
