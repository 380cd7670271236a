/**
 * `polysocket/client`'s handshake options in a real browser (Chromium): the
 * client bundled for the browser as the chat page is, against an in-process
 * Node server. Subprotocols work; headers and TLS trust are the documented TypeErrors.
 */
import * as esbuild from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Server } from "../src/adapters/node/index.ts";
import type { Connection } from "../src/index.ts";
import { BROWSER_BUNDLE } from "../src/page/bundle.ts";
import { chromiumAvailable, launchChromium } from "./harness/browser.ts";

const NAME = "[browser] client handshake options";
let available: boolean;
try {
  available = chromiumAvailable();
} catch (error) {
  available = false;
  test(`${NAME} > Chromium is installed`, () => {
    throw error;
  });
}

/** The client as the browser gets it, exposed as `window.polysocket`. */
async function bundleClient(): Promise<string> {
  const result = await esbuild.build({
    ...BROWSER_BUNDLE,
    entryPoints: [new URL("../src/client/index.ts", import.meta.url).pathname],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "polysocket",
    logLevel: "warning",
  });
  return result.outputFiles[0]!.text;
}

/** What `connect(url, options)` does in the page: the TypeError it throws, or its first open or final close. */
function connectInPage(page: Page, url: string, options: object) {
  return page.evaluate(
    ([url, options]) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const { connect } = (window as unknown as { polysocket: typeof import("../src/client/index.ts") })
          .polysocket;
        let client: ReturnType<typeof connect>;
        try {
          client = connect(url as string, options as object);
        } catch (error) {
          resolve({ threw: (error as Error).name, message: (error as Error).message });
          return;
        }
        client.on("open", () => {
          resolve({ open: true, protocol: client.protocol });
          client.close();
        });
        client.on("close", ({ code, willRetry }) => {
          if (!willRetry) resolve({ closed: code });
        });
      }),
    [url, options] as const,
  );
}

(available ? describe : describe.skip)(NAME, () => {
  let browser: Browser;
  let page: Page;
  let server: Server;
  let url: string;
  const conns: Connection[] = [];

  beforeAll(async () => {
    server = new Server({
      hostname: "127.0.0.1",
      onUpgrade: (request) => (request.url.includes("choose") ? { protocol: "chat.v2" } : {}),
      onConnect: (conn) => void conns.push(conn),
    });
    url = `ws://127.0.0.1:${(await server.listen()).port}/`;
    const script = await bundleClient();
    await esbuild.stop();
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(15_000);
    await page.addScriptTag({ content: script });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("headers are a TypeError naming the browser, not dropped in silence", async () => {
    expect(await connectInPage(page, url, { headers: { Authorization: "Bearer x" } })).toEqual({
      threw: "TypeError",
      message:
        "options.headers cannot be sent from a browser: its WebSocket cannot set upgrade headers (pass a token in the URL or in the first message)",
    });
    expect(conns).toHaveLength(0);
  });

  test("tls.ca and tls.rejectUnauthorized: false are TypeErrors naming the browser", async () => {
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    expect(await connectInPage(page, url, { tls: { ca } })).toEqual({
      threw: "TypeError",
      message:
        "options.tls.ca cannot be used in a browser: it trusts its own certificate store (add the CA there)",
    });
    expect(await connectInPage(page, url, { tls: { rejectUnauthorized: false } })).toEqual({
      threw: "TypeError",
      message:
        "options.tls.rejectUnauthorized: false cannot be used in a browser: it checks every certificate against its own store (add the CA there)",
    });
  });

  test("protocols: the one the server chose is client.protocol and conn.protocol", async () => {
    const before = conns.length;
    const result = await connectInPage(page, `${url}?choose`, {
      protocols: ["chat.v3", "chat.v2"],
      resume: false,
    });
    expect(result).toEqual({ open: true, protocol: "chat.v2" });
    expect(conns.slice(before).map((conn) => conn.protocol)).toEqual(["chat.v2"]);
  });

  test("protocols: a server that chooses none of them fails the connection (1006)", async () => {
    const result = await connectInPage(page, url, { protocols: "chat.v2", maxRetries: 0 });
    expect(result).toEqual({ closed: 1006 });
  });
});
