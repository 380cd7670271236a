/**
 * The WebSocket of the platform, opened with the handshake options the platform
 * can honour: the global one in browsers, Bun, Deno and Node 22+; the `ws`
 * package on Node 20 (no stable global WebSocket) and on any Node when headers
 * or TLS trust are given (the global one takes no CA). What a platform cannot
 * honour is a `TypeError` at construction, never an option dropped in silence.
 */
import type { Handshake } from "./handshake.ts";

/** The part of the WHATWG WebSocket the client uses (also fits `ws`). */
export interface ClientSocket {
  readonly readyState: number;
  /** The subprotocol the server chose, `""` for none. */
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the connection without a closing handshake. */
  terminate?: () => void;
}

/** Where the client runs; "browser" stands for any runtime with only the WHATWG WebSocket. */
export type PlatformName = "browser" | "node" | "bun" | "deno";

/** Opens sockets for one client, reusing what its platform needs across reconnects. */
export interface Dialer {
  /** A new socket to `url`, with the handshake options. */
  dial(url: string): Promise<ClientSocket>;
  /** Frees what the dialer holds (Deno's HTTP client for a CA); safe to call twice. */
  dispose(): void;
}

type Constructor = new (url: string, ...args: unknown[]) => ClientSocket;
type DenoHttpClient = { close(): void };
interface DenoGlobal {
  createHttpClient?: (options: { caCerts: string[] }) => DenoHttpClient;
}

/** Which platform this code runs on, told apart by their globals (Bun and Deno also define `process`). */
export function detectPlatform(): PlatformName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown; process?: { versions?: { node?: unknown } } };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  if (typeof g.process?.versions?.node === "string") return "node";
  return "browser";
}

/** A dialer for `platform`; throws `TypeError` for a handshake option the platform cannot honour. */
export function createDialer(handshake: Handshake, platform: PlatformName = detectPlatform()): Dialer {
  refuseUnsupported(handshake, platform);
  switch (platform) {
    case "node":
      return nodeDialer(handshake);
    case "bun":
      return simpleDialer((Socket, url) => new Socket(url, ...bunArguments(handshake)));
    case "deno":
      return denoDialer(handshake);
    case "browser":
      return simpleDialer((Socket, url) => new Socket(url, offered(handshake)));
  }
}

/** The TypeError for each option a platform has no way to honour (the client table in docs/client.md). */
function refuseUnsupported({ headers, tls }: Handshake, platform: PlatformName): void {
  if (platform === "browser") {
    if (headers) {
      throw new TypeError(
        "options.headers cannot be sent from a browser: its WebSocket cannot set upgrade headers (pass a token in the URL or in the first message)",
      );
    }
    if (tls?.ca !== undefined) {
      throw new TypeError(
        "options.tls.ca cannot be used in a browser: it trusts its own certificate store (add the CA there)",
      );
    }
    if (tls?.rejectUnauthorized === false) {
      throw new TypeError(
        "options.tls.rejectUnauthorized: false cannot be used in a browser: it checks every certificate against its own store (add the CA there)",
      );
    }
  }
  if (platform === "deno" && tls?.rejectUnauthorized === false) {
    throw new TypeError(
      "options.tls.rejectUnauthorized: false cannot be used on Deno: it has no per-connection switch (run deno with --unsafely-ignore-certificate-errors=HOST)",
    );
  }
}

/** The subprotocols as the WHATWG constructor takes them; none offered is `undefined`, not `[]`. */
const offered = ({ protocols }: Handshake): string[] | undefined =>
  protocols.length === 0 ? undefined : [...protocols];

const globalWebSocket = (): Constructor | undefined => (globalThis as { WebSocket?: Constructor }).WebSocket;

function simpleDialer(open: (Socket: Constructor, url: string) => ClientSocket): Dialer {
  return {
    dial: async (url) => open(globalWebSocket() as Constructor, url),
    dispose: () => undefined,
  };
}

/** Bun's non-standard options object, `new WebSocket(url, { protocols, headers, tls })`. */
function bunArguments(handshake: Handshake): unknown[] {
  const { headers, tls } = handshake;
  const protocols = offered(handshake);
  if (!headers && !tls) return protocols ? [protocols] : [];
  return [{ ...(protocols ? { protocols } : {}), ...(headers ? { headers } : {}), ...(tls ? { tls } : {}) }];
}

let wsPackage: Promise<Constructor> | undefined;

/** Node: the global WebSocket when it does all that is asked, else the `ws` package (a dependency). */
function nodeDialer(handshake: Handshake): Dialer {
  const { headers, tls } = handshake;
  const global = globalWebSocket();
  if (global && !headers && !tls) return simpleDialer((Socket, url) => new Socket(url, offered(handshake)));
  const options = { ...(headers ? { headers } : {}), ...tls };
  return {
    async dial(url) {
      wsPackage ??= import("ws").then((ws) => ws.WebSocket as unknown as Constructor);
      const Socket = await wsPackage;
      return new Socket(url, offered(handshake), options);
    },
    dispose: () => undefined,
  };
}

/** Deno: `new WebSocket(url, { protocols, headers, client })`, a CA through one `Deno.createHttpClient`. */
function denoDialer(handshake: Handshake): Dialer {
  const { headers, tls } = handshake;
  const protocols = offered(handshake);
  let client: DenoHttpClient | undefined;
  return {
    async dial(url) {
      if (tls?.ca !== undefined) {
        const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
        client ??= (deno.createHttpClient as NonNullable<DenoGlobal["createHttpClient"]>)({
          caCerts: [tls.ca],
        });
      }
      const Socket = globalWebSocket() as Constructor;
      if (!headers && !client) return new Socket(url, protocols);
      return new Socket(url, {
        ...(protocols ? { protocols } : {}),
        ...(headers ? { headers } : {}),
        ...(client ? { client } : {}),
      });
    },
    dispose() {
      client?.close();
      client = undefined;
    },
  };
}
