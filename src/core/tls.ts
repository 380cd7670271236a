/**
 * The `tls` option: checked at construction, so that a path passed for a PEM, a
 * certificate and key swapped, or an encrypted key without its passphrase is a
 * `TypeError` naming the field, not a runtime's TLS error at `listen()` (or a
 * passphrase prompt on the terminal).
 */
import type { TlsOptions } from "./types.ts";
import { describe, rejectUnknown } from "./validate.ts";

/** {@link TlsOptions} as the adapters receive them: PEM text only. */
export interface ResolvedTls {
  /** The certificate (and any intermediates after it), PEM. */
  readonly cert: string;
  /** The private key, PEM; encrypted when `passphrase` is set. */
  readonly key: string;
  /** Intermediate certificates to send after `cert`, PEM. */
  readonly ca?: string;
  /** The passphrase of an encrypted `key`. */
  readonly passphrase?: string;
}

const FIELDS = ["cert", "key", "ca", "passphrase"];
const CERTIFICATE = "-----BEGIN CERTIFICATE-----";
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----/;
/** PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional PEM with `Proc-Type: 4,ENCRYPTED`. */
const ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/;

/** Validates the `tls` option; throws `TypeError` naming the bad field. */
export function resolveTls(value: TlsOptions | undefined): ResolvedTls | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`options.tls must be an object with cert and key, got ${describe(value)}`);
  }
  rejectUnknown(value, FIELDS, "options.tls");
  const certificate = {
    what: "a PEM certificate",
    armour: CERTIFICATE,
    fits: (text: string) => text.includes(CERTIFICATE),
  };
  const cert = pem("cert", value.cert, certificate);
  const key = pem("key", value.key, {
    what: "a PEM private key",
    armour: "-----BEGIN ... PRIVATE KEY-----",
    fits: (text) => PRIVATE_KEY.test(text),
  });
  const ca =
    value.ca === undefined ? undefined : pem("ca", value.ca, { ...certificate, what: "PEM certificates" });
  const { passphrase } = value;
  if (passphrase !== undefined && (typeof passphrase !== "string" || passphrase === "")) {
    throw new TypeError(`options.tls.passphrase must be a non-empty string, got ${describe(passphrase)}`);
  }
  if (passphrase === undefined && ENCRYPTED.test(key)) {
    throw new TypeError("options.tls.key is encrypted: options.tls.passphrase is required");
  }
  return {
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    ...(passphrase === undefined ? {} : { passphrase }),
  };
}

/** What a PEM field must hold: its name in messages, the armour line to look for, the check. */
interface PemKind {
  readonly what: string;
  readonly armour: string;
  fits(text: string): boolean;
}

/** PEM text from a string or its bytes, or a `TypeError` saying what `name` must hold. */
function pem(name: string, value: unknown, { what, armour, fits }: PemKind): string {
  const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  if (typeof text !== "string") {
    throw new TypeError(`options.tls.${name} must be ${what} (a string or bytes), got ${describe(value)}`);
  }
  if (!fits(text)) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : describe(preview(text));
    throw new TypeError(
      `options.tls.${name} must be ${what} (text with ${armour}, not a file path), got ${got}`,
    );
  }
  return text;
}

/** The start of a long string, enough to recognise it in a message. */
function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
