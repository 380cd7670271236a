/**
 * The `tls` option: every bad value is a TypeError with an exact message at
 * construction; good values reach the adapter as PEM text.
 */
import { describe, expect, test } from "vitest";
import type { ServerOptions } from "../../src/core/options.ts";
import { FakeServer } from "./fake-runtime.ts";

// Validation reads only the PEM armour; the real certificates are in the tls suite.
const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";
const EC_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";
const ENCRYPTED = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIHs\n-----END ENCRYPTED PRIVATE KEY-----\n";
const LEGACY_ENCRYPTED =
  "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,96FE\n\nMIIE\n-----END RSA PRIVATE KEY-----\n";
const bytes = (text: string) => new TextEncoder().encode(text);

/** Bad `tls` values and the exact message each must throw. */
const BAD: ReadonlyArray<readonly [unknown, string]> = [
  ["cert.pem", 'options.tls must be an object with cert and key, got "cert.pem"'],
  [null, "options.tls must be an object with cert and key, got null"],
  [[CERT, KEY], "options.tls must be an object with cert and key, got an array"],
  [
    { cert: CERT, key: KEY, crt: CERT },
    "options.tls.crt is not an option (did you mean cert?); known: cert, key, ca, passphrase",
  ],
  [{ key: KEY }, "options.tls.cert must be a PEM certificate (a string or bytes), got undefined"],
  [{ cert: 5, key: KEY }, "options.tls.cert must be a PEM certificate (a string or bytes), got number 5"],
  [
    { cert: "./cert.pem", key: KEY },
    'options.tls.cert must be a PEM certificate (text with -----BEGIN CERTIFICATE-----, not a file path), got "./cert.pem"',
  ],
  [
    { cert: KEY, key: CERT },
    'options.tls.cert must be a PEM certificate (text with -----BEGIN CERTIFICATE-----, not a file path), got "-----BEGIN PRIVATE KEY-----\\nMIGH\\n-----EN…"',
  ],
  [
    { cert: new Uint8Array([48, 130, 1, 10]), key: KEY },
    "options.tls.cert must be a PEM certificate (text with -----BEGIN CERTIFICATE-----, not a file path), got 4 bytes",
  ],
  [{ cert: CERT }, "options.tls.key must be a PEM private key (a string or bytes), got undefined"],
  [
    { cert: CERT, key: "key.pem" },
    'options.tls.key must be a PEM private key (text with -----BEGIN ... PRIVATE KEY-----, not a file path), got "key.pem"',
  ],
  [
    { cert: CERT, key: KEY, ca: "ca.pem" },
    'options.tls.ca must be PEM certificates (text with -----BEGIN CERTIFICATE-----, not a file path), got "ca.pem"',
  ],
  [
    { cert: CERT, key: KEY, ca: [CERT] },
    "options.tls.ca must be PEM certificates (a string or bytes), got an array",
  ],
  [
    { cert: CERT, key: ENCRYPTED, passphrase: 1234 },
    "options.tls.passphrase must be a non-empty string, got number 1234",
  ],
  [
    { cert: CERT, key: ENCRYPTED, passphrase: "" },
    'options.tls.passphrase must be a non-empty string, got ""',
  ],
  [{ cert: CERT, key: ENCRYPTED }, "options.tls.key is encrypted: options.tls.passphrase is required"],
  [{ cert: CERT, key: LEGACY_ENCRYPTED }, "options.tls.key is encrypted: options.tls.passphrase is required"],
];

describe("tls options", () => {
  for (const [tls, message] of BAD) {
    test(`throws: ${message}`, () => {
      expect(() => new FakeServer({ tls } as ServerOptions)).toThrow(new TypeError(message));
    });
  }

  test("PEM bytes reach the adapter as text; ca and passphrase when given; no tls by default", async () => {
    const given = await FakeServer.start({
      tls: { cert: bytes(CERT), key: bytes(LEGACY_ENCRYPTED), ca: bytes(CERT), passphrase: "s3cret" },
    });
    expect(given.engine.limits.tls).toEqual({
      cert: CERT,
      key: LEGACY_ENCRYPTED,
      ca: CERT,
      passphrase: "s3cret",
    });
    const plain = await FakeServer.start({ tls: { cert: CERT, key: EC_KEY } });
    expect(plain.engine.limits.tls).toEqual({ cert: CERT, key: EC_KEY });
    expect((await FakeServer.start()).engine.limits.tls).toBeUndefined();
  });
});
