import type { UpgradeRequest } from "./adapter.ts";

/** One frozen header record with lower-case names, from any runtime's header list. */
export function headerRecord(
  entries: Iterable<[string, string | string[] | undefined]>,
): Readonly<Record<string, string>> {
  const record: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(", ") : value;
    record[key] = key in record ? `${record[key]}, ${text}` : text;
  }
  return Object.freeze(record);
}

/** True when the request asks for a WebSocket upgrade. */
export function wantsWebSocket(method: string, headers: Readonly<Record<string, string>>): boolean {
  return method === "GET" && /(^|,)\s*websocket\s*(,|$)/i.test(headers.upgrade ?? "");
}

/** What the core needs of a web-standard `Request` (Bun and Deno hand these to their handlers). */
export function requestFromFetch(req: Request, remoteAddress: string): UpgradeRequest {
  const headers = headerRecord(req.headers.entries());
  const url = new URL(req.url);
  return {
    method: req.method,
    url: url.pathname + url.search,
    headers,
    upgrade: wantsWebSocket(req.method, headers),
    remoteAddress,
  };
}
