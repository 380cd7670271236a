/**
 * What every benchmark server shares: it prints `{"ready":port}` once listening
 * and answers `rss` lines on stdin with `{"rss":bytes}` measured after a full GC,
 * so the runner can measure memory from outside without touching the server's port.
 */

/** Tells the runner the server listens on `port`, and starts answering its memory queries. */
export function ready(port: number): void {
  console.log(JSON.stringify({ ready: port }));
  let pending = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      if (pending.slice(0, newline).trim() === "rss") void reportRss();
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  });
  // The runner holds stdin open; if it dies (Ctrl-C), the server goes too instead of lingering.
  process.stdin.on("end", () => process.exit(0));
}

async function reportRss(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  console.log(JSON.stringify({ rss: process.memoryUsage().rss }));
}

/** A full GC: `Bun.gc(true)` on Bun, `gc()` on V8 runtimes started with --expose-gc. */
function collectGarbage(): void {
  const global = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (global.Bun) global.Bun.gc(true);
  else global.gc?.();
}

/** Whether a connection asked for echo (`?echo`) rather than chat fan-out. */
export function wantsEcho(url: string): boolean {
  return url.includes("echo");
}
