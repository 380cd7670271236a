/**
 * Deadlines for the harness's waits: a lost message or a close that never comes
 * fails within seconds, naming what was awaited, instead of at the test timeout.
 */

/** How long a harness wait lasts unless told otherwise, in ms. */
export const WAIT_MS = 5000;

/**
 * `promise`, or a rejection after `ms` with `expected()` as its message (computed
 * then, so it can say what had arrived by the deadline). An abandoned wait never
 * reports an unhandled rejection; an awaited one still rejects.
 */
export function within<T>(promise: Promise<T>, ms: number, expected: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(expected())), ms);
    timer.unref?.();
  });
  const raced = Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  raced.catch(() => undefined);
  return raced;
}

/** A short rendering of received messages for a failure message: the last few, each cut to 80 characters. */
export function preview(messages: readonly unknown[], last = 5): string {
  const shown = messages.slice(-last).map((m) => {
    if (typeof m !== "string") return `<${(m as Uint8Array).length} bytes>`;
    return JSON.stringify(m.length > 80 ? `${m.slice(0, 80)}…` : m);
  });
  return `[${messages.length > last ? "…, " : ""}${shown.join(", ")}]`;
}
