/**
 * The status line of plain HTTP answers, read off a raw TCP connection (fetch hides
 * the reason phrase), on each runtime: the standard phrase everywhere, and the chat
 * page's icon instead of a 404 for `/favicon.ico`.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RuntimeProcess } from "./harness/process.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

const DEADLINE_MS = 5_000;

/** The head (status line and headers) and body of the answer to one raw HTTP/1.1 request. */
interface RawAnswer {
  statusLine: string;
  head: string;
  body: string;
}

/**
 * Sends `GET path` (plus `headers`) on a fresh TCP connection and reads one answer. It does
 * not wait for the server to close: node:http keeps a 426 open, as its `Connection: Upgrade` asks.
 */
function rawGet(port: number, path: string, headers = ""): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(() => {
      const got = JSON.stringify(data.toString());
      finish(() =>
        reject(new Error(`no complete answer to GET ${path} within ${DEADLINE_MS} ms; got ${got}`)),
      );
    }, DEADLINE_MS);
    socket.once("connect", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${headers}\r\n`),
    );
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const answer = complete(data);
      if (answer) finish(() => resolve(answer));
    });
    socket.once("error", (error) => finish(() => reject(error)));
  });
}

/** The answer in `data` once its body is complete (by content-length, in bytes, or the last chunk). */
function complete(data: Buffer): RawAnswer | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = data.subarray(0, end).toString("latin1");
  const rest = data.subarray(end + 4);
  const length = /^content-length: *(\d+)$/im.exec(head);
  const chunked = /^transfer-encoding: *chunked$/im.test(head);
  if (length && rest.length < Number(length[1])) return undefined;
  if (chunked && !rest.toString("latin1").endsWith("0\r\n\r\n")) return undefined;
  return { statusLine: head.split("\r\n")[0]!, head, body: rest.toString() };
}

const UPGRADE =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

export function httpStatusSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  // node:http writes the Response's own statusText; Bun.serve and Deno.serve always send the standard phrase.
  const keepsStatusText = runtime === "node" || variant.env.POLYSOCKET_ADAPTER === "node";

  describe(`[${variant.name}] HTTP status lines`, () => {
    let server: RuntimeProcess;
    let port: number;

    beforeAll(async () => {
      server = new RuntimeProcess(runtime, "test/fixtures/status-server.ts", variant.env);
      const line = await server.waitForLine((l) => l.includes('"listening"'), "listening");
      port = JSON.parse(line).port;
    });
    afterAll(async () => {
      await server?.stop("SIGKILL");
    });

    test.each([
      ["/", "200 OK", "the chat page"],
      ["/test/created", "201 Created", "a Response without statusText"],
      ["/chat", "426 Upgrade Required", "plain GET on the WebSocket path"],
      ["/nowhere", "404 Not Found", "no answer from onRequest"],
    ])("GET %s answers HTTP/1.1 %s (%s)", async (path, status) => {
      expect((await rawGet(port, path)).statusLine).toBe(`HTTP/1.1 ${status}`);
    });

    test("a refused upgrade answers with the standard phrase too", async () => {
      expect((await rawGet(port, "/nowhere", UPGRADE)).statusLine).toBe("HTTP/1.1 404 Not Found");
    });

    test(`a Response's own statusText ${keepsStatusText ? "is sent" : "gives way to the standard phrase"}`, async () => {
      const expected = keepsStatusText ? "HTTP/1.1 200 Fine Thanks" : "HTTP/1.1 200 OK";
      expect((await rawGet(port, "/test/custom")).statusLine).toBe(expected);
    });

    test.each(["/favicon.ico", "/favicon.svg"])(
      "the chat page's icon: %s is an SVG, not a 404",
      async (path) => {
        const answer = await rawGet(port, path);
        expect(answer.statusLine).toBe("HTTP/1.1 200 OK");
        expect(answer.head.toLowerCase()).toContain("content-type: image/svg+xml");
        expect(answer.body).toContain("<svg");
      },
    );
  });
}
