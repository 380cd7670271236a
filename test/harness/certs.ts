/**
 * Test certificates made by `openssl` at test time in a temporary directory:
 * a root CA, an intermediate CA under it, and leaves for 127.0.0.1 and
 * localhost (one signed by the root, one by the intermediate, one key encrypted).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The passphrase of `leafEncryptedKey`. */
export const PASSPHRASE = "pass phrase: s3cret";

/** Paths of the PEM files (see {@link makeCerts}). */
export interface Certs {
  readonly dir: string;
  /** Root CA certificate: what a trusting client passes as `ca`. */
  readonly ca: string;
  /** Intermediate CA certificate, signed by the root. */
  readonly intermediate: string;
  /** Leaf certificate signed by the root, and its key. */
  readonly leaf: string;
  readonly leafKey: string;
  /** The same key, encrypted (PKCS#8, AES-256) with {@link PASSPHRASE}. */
  readonly leafEncryptedKey: string;
  /** Leaf certificate signed by the intermediate, and its key. */
  readonly chained: string;
  readonly chainedKey: string;
  /** The SHA-256 of the leaf's public key, base64 (Chromium's SPKI pin). */
  readonly leafSpki: string;
  /** Removes the directory. */
  remove(): void;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
const CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
const LEAF_EXT =
  "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n" +
  "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";

/** Makes a fresh set of certificates valid for one day; throws with openssl's output on failure. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "polysocket-tls-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]): Buffer => {
    try {
      return execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    } catch (error) {
      const { stderr } = error as { stderr?: Buffer };
      throw new Error(`openssl ${args.join(" ")} failed: ${stderr?.toString() ?? error}`);
    }
  };
  writeFileSync(at("ca.ext"), CA_EXT);
  writeFileSync(at("leaf.ext"), LEAF_EXT);
  openssl(
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=polysocket test root CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  const sign = (name: string, subject: string, issuer: string, ext: string) => {
    openssl("req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${issuer}.pem`,
      "-CAkey",
      `${issuer}.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${name}.pem`,
      "-extfile",
      ext,
    );
  };
  sign("intermediate", "/CN=polysocket test intermediate CA", "ca", "ca.ext");
  sign("leaf", "/CN=127.0.0.1", "ca", "leaf.ext");
  sign("chained", "/CN=127.0.0.1", "intermediate", "leaf.ext");
  openssl("pkey", "-in", "leaf.key", "-aes256", "-passout", `pass:${PASSPHRASE}`, "-out", "leaf.enc.key");
  const publicKey = openssl("pkey", "-in", "leaf.key", "-pubout", "-outform", "DER");
  return {
    dir,
    ca: at("ca.pem"),
    intermediate: at("intermediate.pem"),
    leaf: at("leaf.pem"),
    leafKey: at("leaf.key"),
    leafEncryptedKey: at("leaf.enc.key"),
    chained: at("chained.pem"),
    chainedKey: at("chained.key"),
    leafSpki: createHash("sha256").update(publicKey).digest("base64"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The text of a PEM file. */
export const readPem = (path: string): string => readFileSync(path, "utf8");
