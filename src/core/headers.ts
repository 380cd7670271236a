import type { KeepHeaders, UpgradeRequest } from "./types.ts";

export type { KeepHeaders } from "./types.ts";

/** Node's parsed header object (`IncomingMessage.headers`): lower-case names, `string[]` for repeats. */
export type HeaderObject = Readonly<Record<string, string | string[] | undefined>>;

/** One frozen header record with lower-case names, from any runtime's header list. */
export function headerRecord(
  entries: Iterable<[string, string | string[] | undefined]>,
): Readonly<Record<string, string>> {
  const record: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const text = joinRepeats(value);
    record[key] = key in record ? `${record[key]}, ${text}` : text;
  }
  return Object.freeze(record);
}

/** True when the request asks for a WebSocket upgrade. */
export function wantsWebSocket(method: string, headers: Readonly<Record<string, string>>): boolean {
  return isWebSocketUpgrade(method, headers.upgrade);
}

function isWebSocketUpgrade(method: string, upgrade: string | undefined): boolean {
  return method === "GET" && upgrade !== undefined && /(^|,)\s*websocket\s*(,|$)/i.test(upgrade);
}

/**
 * An upgrade request whose header record is built on first read of `headers`:
 * the core routes on a few headers read one by one, and most servers never
 * read the rest. Building the record for every connection showed in the
 * connection-rate profile (Deno's `Headers` sorts on every iteration).
 */
export class LazyUpgradeRequest implements UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly upgrade: boolean;
  readonly remoteAddress: string;
  /** The runtime's headers, or after {@link keepHeaders} one string of `\nname:value` lines. */
  #source: Headers | HeaderObject | string | undefined;
  #record: Readonly<Record<string, string>> | undefined;

  /**
   * `url` may be absolute (fetch) or a path (Node); the request keeps its path and query.
   * `upgradable` false marks a request the runtime handed over as plain HTTP.
   */
  constructor(
    method: string,
    url: string,
    headers: Headers | HeaderObject,
    remoteAddress: string,
    upgradable = true,
  ) {
    this.method = method;
    this.url = pathAndQuery(url);
    this.remoteAddress = remoteAddress;
    this.#source = headers;
    this.upgrade = upgradable && isWebSocketUpgrade(method, this.header("upgrade"));
  }

  /** Request headers with lower-case names, frozen; built on first read. */
  get headers(): Readonly<Record<string, string>> {
    if (this.#record === undefined) {
      const source = this.#source as Headers | HeaderObject | string;
      this.#record = headerRecord(entriesOf(source));
      this.#source = undefined;
    }
    return this.#record;
  }

  /**
   * Called once the upgrade is accepted: from then on the request holds only the
   * headers its connection keeps (`keep`: every header, none, or the named ones),
   * copied out of the runtime's request. Deno refuses to read a request's headers
   * once it is answered; Bun's header strings keep more memory alive than their
   * text (measured: ~0.4 KB per idle connection). Node's header object is plain
   * data already and stays as it is when every header is kept.
   */
  keepHeaders(keep: KeepHeaders): void {
    const source = this.#source;
    if (keep !== true) {
      this.#source = keep === false ? NO_HEADERS : joinLines(keptLines(this, keep));
      this.#record = undefined;
    } else if (source !== undefined && typeof source !== "string" && isFetchHeaders(source)) {
      this.#source = packFetchHeaders(source);
    }
  }

  /** One header by lower-case name (repeats joined with ", "), without building the record. */
  header(name: string): string | undefined {
    if (this.#record !== undefined) return this.#record[name];
    const source = this.#source as Headers | HeaderObject | string;
    if (typeof source === "string") return packedHeader(source, name);
    if (isFetchHeaders(source)) return source.get(name) ?? undefined;
    const value = source[name];
    return value === undefined ? undefined : joinRepeats(value);
  }
}

/** The packed form of an empty header list (see `joinLines`). */
const NO_HEADERS = "\n";

/**
 * Fetch headers come with lower-case names and repeats joined. `forEach`, not the
 * iterator: Deno's iterator allocates a result object per header (seen in the
 * connection-rate profile), its `forEach` walks the list it already has.
 */
function packFetchHeaders(headers: Headers): string {
  const lines: string[] = [];
  headers.forEach((value, name) => {
    lines.push(`\n${name}:${value}`);
  });
  return joinLines(lines);
}

/** `\nname:value` lines of the `names` that `request` has. */
function keptLines(request: LazyUpgradeRequest, names: readonly string[]): string[] {
  const lines: string[] = [];
  for (const name of names) {
    const value = request.header(name);
    if (value !== undefined) lines.push(`\n${name}:${value}`);
  }
  return lines;
}

/**
 * One flat string: built with `+=`, Bun keeps a rope of every piece alive (an idle
 * connection measured 3.0 KB instead of 2.0 KB), as nothing ever flattens it.
 */
function joinLines(lines: string[]): string {
  lines.push("\n");
  return lines.join("");
}

/** A header's value; Node gives repeated headers as an array, fetch joins them with ", ". */
function joinRepeats(value: string | string[]): string {
  return Array.isArray(value) ? value.join(", ") : value;
}

type HeaderEntry = [string, string | string[] | undefined];

function entriesOf(source: Headers | HeaderObject | string): Iterable<HeaderEntry> {
  if (typeof source === "string") return packedEntries(source);
  return isFetchHeaders(source) ? source : Object.entries(source);
}

/** The value of `name` in a packed header string (see `keepHeaders`); repeats were joined when packing. */
function packedHeader(packed: string, name: string): string | undefined {
  const start = packed.indexOf(`\n${name}:`);
  if (start < 0) return undefined;
  const from = start + name.length + 2;
  return packed.slice(from, packed.indexOf("\n", from));
}

function* packedEntries(packed: string): Generator<HeaderEntry> {
  for (const line of packed.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) yield [line.slice(0, colon), line.slice(colon + 1)];
  }
}

/**
 * Duck-typed: a Node header object's values are strings, never functions, and
 * reading the global `Headers` on Node 20 costs more than this check.
 */
function isFetchHeaders(source: Headers | HeaderObject): source is Headers {
  return typeof (source as Headers).get === "function";
}

/** `/path?query` of an absolute URL (as fetch requests carry) or of a path (as Node's). */
function pathAndQuery(url: string): string {
  if (url.startsWith("/")) return url;
  const scheme = url.indexOf("://");
  const path = scheme < 0 ? -1 : url.indexOf("/", scheme + 3);
  if (path >= 0) return url.slice(path);
  const query = url.indexOf("?", scheme + 3);
  return query < 0 ? "/" : `/${url.slice(query)}`;
}

/** What the core needs of a web-standard `Request` (Bun and Deno hand these to their handlers). */
export function requestFromFetch(req: Request, remoteAddress: string): LazyUpgradeRequest {
  return new LazyUpgradeRequest(req.method, req.url, req.headers, remoteAddress);
}
