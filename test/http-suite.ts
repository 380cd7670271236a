/**
 * `onRequest`: plain HTTP next to the WebSocket path, on each runtime, through
 * the chat server fixture (the chat page plus test routes).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { RuntimeProcess } from "./harness/process.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

export function httpSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] onRequest`, () => {
    let server: RuntimeProcess;
    let origin: string;

    beforeAll(async () => {
      server = new RuntimeProcess(runtime, "test/fixtures/chat-server.ts", variant.env);
      const line = await server.waitForLine((l) => l.includes('"listening"'), "listening");
      origin = `http://127.0.0.1:${JSON.parse(line).port}`;
    });
    afterAll(async () => {
      await server?.stop("SIGKILL");
    });

    test("answers plain requests; without an answer, 426 on the WebSocket path and 404 elsewhere", async () => {
      const page = await fetch(`${origin}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await page.text()).toContain('<script type="module" src="/app.js">');
      const script = await fetch(`${origin}/app.js`);
      expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(await script.text()).toContain("heartbeat timeout"); // the bundled polysocket/client
      expect((await fetch(`${origin}/chat`)).status).toBe(426);
      expect((await fetch(`${origin}/nowhere`)).status).toBe(404);
      // Upgrades never reach onRequest: another path still refuses with 404.
      await expect(TestClient.open(`${origin.replace("http", "ws")}/`)).rejects.toMatchObject({
        status: 404,
      });
    });

    test("request bodies, methods and headers go in; status, headers and every Set-Cookie come out", async () => {
      const body = "héllo 🎉 ".repeat(10_000);
      const response = await fetch(`${origin}/test/echo`, {
        method: "POST",
        body,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-method")).toBe("POST");
      expect(response.headers.get("x-type")).toBe("text/plain; charset=utf-8");
      expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(await response.text()).toBe(body);
    });

    test("a throwing onRequest answers 500 and goes to onError; the server carries on", async () => {
      expect((await fetch(`${origin}/test/throw`)).status).toBe(500);
      await server.waitForLine((l) => l.includes("onRequest failed: request boom"), "the onError report");
      expect((await fetch(`${origin}/`)).status).toBe(200);
    });
  });
}
