/**
 * The `tls` option on each runtime (test/fixtures/tls-server.ts), with
 * certificates made by openssl at test time: `wss://` and `https://` on one
 * port, the chain, encrypted keys, refused clients, and outside clients
 * (`openssl s_client` verifying against the test CA, and Chromium).
 */
import { spawn } from "node:child_process";
import { request } from "node:https";
import { connect as connectTcp } from "node:net";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM, chromiumAvailable } from "./harness/browser.ts";
import { type Certs, makeCerts, PASSPHRASE, readPem } from "./harness/certs.ts";
import { TestClient } from "./harness/client.ts";
import { within } from "./harness/deadline.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

/** What a TLS client that does not trust the server's chain is told by Node's OpenSSL. */
const UNTRUSTED = ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"];

/** How the runtime treats a client that connects and never finishes the TLS handshake (`handshakeTimeout` 1 s). */
type Stalled = { closedWithin: [number, number] } | { heldBeyond: number };

function stalledHandshake(runtime: Runtime, variant: Variant): Stalled {
  if (runtime === "node" || variant.env.POLYSOCKET_ADAPTER === "node") return { closedWithin: [950, 2500] };
  // Bun's fixed pre-request timeout (10 s on a 4 s sweep) also covers the TLS handshake.
  if (runtime === "bun") return { closedWithin: [9500, 15_000] };
  return { heldBeyond: 4000 }; // Deno.serve has no handshake timeout (docs/runtimes.md)
}

export function tlsSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] tls`, () => {
    let certs: Certs;
    let port: number;
    let main: RuntimeProcess;
    const started: RuntimeProcess[] = [];

    /** Starts the fixture with these PEM files; resolves with its first event (`listening` or a failure). */
    const start = async (env: Record<string, string>) => {
      const server = new RuntimeProcess(runtime, "test/fixtures/tls-server.ts", { ...variant.env, ...env });
      started.push(server);
      const line = await server.waitForLine((l) => l.startsWith('{"ev":'), "the fixture's first event");
      return { server, event: JSON.parse(line) as Record<string, unknown> };
    };
    const listening = async (env: Record<string, string>) => {
      const { server, event } = await start(env);
      expect(event, `expected the server to listen; stderr: ${server.stderr}`).toMatchObject({
        ev: "listening",
      });
      return { server, port: event.port as number };
    };
    const echo = async (at: number, ca: string = readPem(certs.ca)) => {
      const client = await TestClient.open(`wss://127.0.0.1:${at}/ws`, { ca });
      client.send("over tls");
      expect(await client.next()).toBe("echo: over tls");
      client.socket.close(1000);
      expect(await client.closed).toMatchObject({ code: 1000 });
    };

    beforeAll(async () => {
      certs = makeCerts();
      ({ server: main, port } = await listening({
        TLS_CERT: certs.leaf,
        TLS_KEY: certs.leafKey,
        HANDSHAKE_TIMEOUT: "1000",
      }));
    });
    afterAll(async () => {
      await Promise.all(started.map((server) => server.stop("SIGKILL")));
      certs?.remove();
    });

    test("wss:// with the test CA trusted: a ws client connects and gets its message back", async () => {
      await echo(port);
    });

    test("https:// on the same port answers the onRequest page, which sees an https:// URL", async () => {
      const page = await get(port, readPem(certs.ca));
      expect(page.status).toBe(200);
      expect(page.type).toBe("text/html; charset=utf-8");
      expect(page.body).toContain("<p>served over https:</p>");
    });

    test("a client that does not trust the CA fails the TLS handshake; the server carries on", async () => {
      const refused = await TestClient.open(`wss://127.0.0.1:${port}/ws`).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(UNTRUSTED, `expected a TLS verification error, got ${refused}`).toContain(refused);
      await expect(get(port)).rejects.toMatchObject({ code: expect.stringMatching(/^UNABLE_TO/) });
      // No plain ws:// on a TLS port either.
      await expect(TestClient.open(`ws://127.0.0.1:${port}/ws`)).rejects.toThrow();
      await echo(port);
      expect(main.exited).toBe(false);
      expect(main.lines.filter((l) => l.includes('"ev":"error"'))).toEqual([]);
    });

    test("ca is sent after the certificate: a client trusting only the root accepts a leaf under an intermediate", async () => {
      const chained = { TLS_CERT: certs.chained, TLS_KEY: certs.chainedKey, TLS_BYTES: "1" };
      const withCa = await listening({ ...chained, TLS_CA: certs.intermediate });
      await echo(withCa.port);
      const withoutCa = await listening(chained);
      const refused = await TestClient.open(`wss://127.0.0.1:${withoutCa.port}/ws`, {
        ca: readPem(certs.ca),
      }).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(refused, "without ca, the root alone cannot verify the leaf").toBe(
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      );
    });

    test("an encrypted key serves with its passphrase; a wrong one fails listen() with ERR_LISTEN", async () => {
      const encrypted = { TLS_CERT: certs.leaf, TLS_KEY: certs.leafEncryptedKey };
      await echo((await listening({ ...encrypted, TLS_PASSPHRASE: PASSPHRASE })).port);
      const { event } = await start({ ...encrypted, TLS_PASSPHRASE: "not it" });
      expect(event).toMatchObject({ ev: "listen-failed", name: "WebSocketError", code: "ERR_LISTEN" });
      expect(event.message).toMatch(/^cannot listen on 127\.0\.0\.1:0: .*bad.?decrypt/i);
    });

    test("a key that does not match the certificate fails listen() with ERR_LISTEN", async () => {
      const { event } = await start({ TLS_CERT: certs.leaf, TLS_KEY: certs.chainedKey });
      expect(event).toMatchObject({ ev: "listen-failed", name: "WebSocketError", code: "ERR_LISTEN" });
      expect(event.message).toMatch(/^cannot listen on 127\.0\.0\.1:0: .*(mismatch)/i);
    });

    test("a file path instead of PEM throws TypeError at construction", async () => {
      const { event } = await start({ TLS_CERT: certs.leaf, TLS_KEY: certs.leafKey, TLS_PATHS: "1" });
      expect(event).toEqual({
        ev: "options-failed",
        name: "TypeError",
        message: `options.tls.cert must be a PEM certificate (text with -----BEGIN CERTIFICATE-----, not a file path), got ${JSON.stringify(`${certs.leaf.slice(0, 40)}${certs.leaf.length > 40 ? "…" : ""}`)}`,
      });
    });

    test("openssl s_client, verifying the chain and the IP against the test CA, upgrades and echoes", async () => {
      const verified = await sClient(port, ["-CAfile", certs.ca, "-verify_ip", "127.0.0.1"]);
      expect(verified.stdout).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(verified.stdout).toContain("echo: from openssl");
      const untrusted = await sClient(port, []);
      expect(untrusted.stdout).toBe("");
      expect(untrusted.stderr).toMatch(
        /verify error:num=(20|21):unable to (get local issuer certificate|verify the first certificate)/,
      );
    });

    const stalled = stalledHandshake(runtime, variant);
    test(`a client that never finishes the TLS handshake is ${"closedWithin" in stalled ? `closed ${stalled.closedWithin.join("-")} ms after connecting` : `held beyond ${stalled.heldBeyond} ms`} (handshakeTimeout 1 s)`, async () => {
      const socket = connectTcp(port, "127.0.0.1");
      const opened = Date.now();
      const closed = new Promise<number>((resolve) =>
        socket.once("close", () => resolve(Date.now() - opened)),
      );
      socket.on("error", () => undefined);
      try {
        if ("closedWithin" in stalled) {
          const [low, high] = stalled.closedWithin;
          const after = await within(
            closed,
            high,
            () => `expected the server to close the stalled connection within ${high} ms`,
          );
          expect(after).toBeGreaterThanOrEqual(low);
        } else {
          const early = await Promise.race([
            closed,
            new Promise((resolve) => setTimeout(resolve, stalled.heldBeyond, "held")),
          ]);
          expect(early, "expected Deno to hold the stalled connection").toBe("held");
        }
      } finally {
        socket.destroy();
      }
      await echo(port);
    });

    describe("Chromium", () => {
      let available = false;
      try {
        available = chromiumAvailable();
      } catch (error) {
        test("Chromium is installed", () => {
          throw error;
        });
      }
      (available ? test : test.skip)(
        "loads the https:// page and talks to the server over wss:// (the leaf's key pinned, no certificate errors ignored)",
        async () => {
          const browser = await chromium.launch({
            executablePath: CHROMIUM,
            headless: true,
            args: [
              "--no-sandbox",
              "--disable-gpu",
              `--ignore-certificate-errors-spki-list=${certs.leafSpki}`,
            ],
          });
          try {
            const page = await (await browser.newContext()).newPage();
            const response = await page.goto(`https://127.0.0.1:${port}/`, { timeout: 15_000 });
            expect(response?.status()).toBe(200);
            expect(await page.textContent("p")).toBe("served over https:");
            const reply = await page.evaluate(
              (url) =>
                new Promise<string>((resolve, reject) => {
                  const ws = new WebSocket(url);
                  ws.onopen = () => ws.send("from chromium");
                  ws.onmessage = (event) => {
                    resolve(String(event.data));
                    ws.close(1000);
                  };
                  ws.onerror = () => reject(new Error("the browser's WebSocket failed"));
                  setTimeout(() => reject(new Error("no echo within 10 s")), 10_000);
                }),
              `wss://127.0.0.1:${port}/ws`,
            );
            expect(reply).toBe("echo: from chromium");
          } finally {
            await browser.close();
          }
        },
      );
    });
  });
}

/** An https GET with Node's client, trusting `ca` only (none: the system's roots). */
function get(port: number, ca?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", ca, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("no https answer within 5 s")));
    req.end();
  });
}

/** A masked text frame (client to server), for a payload under 126 bytes. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = payload.map((byte, i) => byte ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/**
 * `openssl s_client` as a WebSocket client: sends the upgrade request, then (after the
 * 101) a text frame, and ends once the echo arrived, the process exited, or 10 s passed.
 */
function sClient(port: number, trust: string[]): Promise<{ stdout: string; stderr: string }> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-verify_return_error", "-quiet", ...trust];
  const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let framed = false;
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  child.stdin.on("error", () => undefined); // s_client may exit (untrusted) before reading it
  child.stdin.write(
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve({ stdout, stderr });
    };
    const timer = setTimeout(done, 10_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("latin1");
      if (!framed && stdout.includes("\r\n\r\n")) {
        framed = true;
        child.stdin.write(maskedText("from openssl"));
      }
      if (stdout.includes("echo: from openssl")) done();
    });
    child.once("exit", done);
  });
}
