/**
 * node:http <-> web-standard `Request`/`Response`, so `onRequest` is the same
 * function on every runtime. Bodies stream both ways.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";

/** The `Request` that an incoming node:http request describes. */
export function toFetchRequest(req: IncomingMessage): Request {
  const host = req.headers.host ?? "localhost";
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  // A TLS socket (node:https) says so, as Bun and Deno do with an https:// URL.
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  return new Request(`${scheme}://${host}${req.url ?? "/"}`, {
    method,
    headers,
    // Node's web-stream types and the DOM's (or Bun's) differ in name only: the objects are one kind.
    body: hasBody ? (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>) : null,
    // Node's fetch requires this for a streamed request body.
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

/**
 * Writes `response` to `res`: status line, headers (every Set-Cookie kept apart), streamed body.
 * A `Response` without a `statusText` gets the standard reason phrase, as on Bun and Deno
 * (node:http would send `HTTP/1.1 426 ` with the empty one).
 */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, reasonPhrase(response), headers);
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>), res);
}

/** The response's own status text, else the standard one for its status (empty for an unknown status). */
function reasonPhrase(response: Response): string {
  return response.statusText || STATUS_CODES[response.status] || "";
}
