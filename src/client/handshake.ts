/**
 * The handshake options of `connect`: subprotocols offered, extra upgrade
 * headers, and TLS trust. Checked at construction, so a bad token, a header the
 * handshake owns or a file path passed for a PEM is a `TypeError` naming it.
 */
import { describe, rejectUnknown } from "../core/validate.ts";

/** TLS trust of a `wss://` connection, where the runtime allows it (see the client table in docs/client.md). */
export interface ClientTlsOptions {
  /** Certificates to trust besides the runtime's own store: PEM text or its bytes. */
  ca?: string | Uint8Array;
  /** `false` accepts any certificate (never in production). Default `true`. */
  rejectUnauthorized?: boolean;
}

/** The handshake options as the platform receives them. */
export interface Handshake {
  /** Subprotocols offered, in order of preference; empty when none is offered. */
  readonly protocols: readonly string[];
  /** Extra upgrade headers; `undefined` when none. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** TLS trust; `undefined` when the runtime's defaults apply. */
  readonly tls: { readonly ca?: string; readonly rejectUnauthorized?: boolean } | undefined;
}

/** Names of the handshake options, as `ClientOptions` spells them. */
export const HANDSHAKE_OPTIONS = ["protocols", "headers", "tls"] as const;

/** An HTTP token (RFC 9110): what a subprotocol and a header name must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the WebSocket handshake itself sets; a user value would break it or be ignored. */
const OWNED = [
  "connection",
  "upgrade",
  "host",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-accept",
];
const CERTIFICATE = "-----BEGIN CERTIFICATE-----";

/** Validates the handshake options; throws `TypeError` naming the bad one. */
export function resolveHandshake(options: {
  protocols?: unknown;
  headers?: unknown;
  tls?: unknown;
}): Handshake {
  return {
    protocols: resolveProtocols(options.protocols),
    headers: resolveHeaders(options.headers),
    tls: resolveTrust(options.tls),
  };
}

function resolveProtocols(value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) {
    throw new TypeError(`options.protocols must be a string or an array of strings, got ${describe(value)}`);
  }
  list.forEach((protocol: unknown, i) => {
    if (typeof protocol !== "string" || !TOKEN.test(protocol)) {
      throw new TypeError(
        `options.protocols[${i}] must be a token (letters, digits and !#$%&'*+-.^_\`|~), got ${describe(protocol)}`,
      );
    }
    if (list.indexOf(protocol) !== i) {
      throw new TypeError(`options.protocols offers ${JSON.stringify(protocol)} twice`);
    }
  });
  return [...list];
}

function resolveHeaders(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `options.headers must be an object of header names to strings, got ${describe(value)}`,
    );
  }
  const seen = new Set<string>();
  for (const [name, text] of Object.entries(value)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name))
      throw new TypeError(`options.headers: ${JSON.stringify(name)} is not a header name`);
    if (lower === "sec-websocket-protocol") {
      throw new TypeError(`options.headers["${name}"]: offer subprotocols with options.protocols`);
    }
    if (OWNED.includes(lower)) {
      throw new TypeError(`options.headers["${name}"] is set by the WebSocket handshake itself`);
    }
    if (seen.has(lower)) throw new TypeError(`options.headers sets ${JSON.stringify(lower)} twice`);
    seen.add(lower);
    if (typeof text !== "string" || /[\r\n\0]/.test(text)) {
      throw new TypeError(
        `options.headers["${name}"] must be a string without CR, LF or NUL, got ${describe(text)}`,
      );
    }
  }
  return seen.size === 0 ? undefined : { ...(value as Record<string, string>) };
}

function resolveTrust(value: unknown): Handshake["tls"] {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `options.tls must be an object with ca and/or rejectUnauthorized, got ${describe(value)}`,
    );
  }
  rejectUnknown(value, ["ca", "rejectUnauthorized"], "options.tls");
  const { ca, rejectUnauthorized } = value as ClientTlsOptions;
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== "boolean") {
    throw new TypeError(
      `options.tls.rejectUnauthorized must be a boolean, got ${describe(rejectUnauthorized)}`,
    );
  }
  return {
    ...(ca === undefined ? {} : { ca: certificates(ca) }),
    ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
  };
}

/** PEM text from a string or its bytes, or a `TypeError` saying what `ca` must hold. */
function certificates(value: unknown): string {
  const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  if (typeof text !== "string") {
    throw new TypeError(
      `options.tls.ca must be PEM certificates (a string or bytes), got ${describe(value)}`,
    );
  }
  if (!text.includes(CERTIFICATE)) {
    const got =
      value instanceof Uint8Array
        ? `${value.length} bytes`
        : describe(text.length > 40 ? `${text.slice(0, 40)}…` : text);
    throw new TypeError(
      `options.tls.ca must be PEM certificates (text with ${CERTIFICATE}, not a file path), got ${got}`,
    );
  }
  return text;
}
