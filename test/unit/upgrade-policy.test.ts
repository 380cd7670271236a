/**
 * What happens to a request before any connection exists, in order: path (404),
 * upgrade (426), shutdown and capacity (503), origin (403), then `onUpgrade`
 * (accept with data and protocol, reject with a status, or refuse with a
 * `closeCode` a browser can see); plain requests go to `onRequest`.
 */
import { describe, expect, test } from "vitest";
import { LazyUpgradeRequest } from "../../src/core/headers.ts";
import type { ServerOptions } from "../../src/core/options.ts";
import { drainMicrotasks, FakeServer, until } from "./fake-runtime.ts";

/** A server whose hooks log every connection hook and every error. */
async function logged(options: ServerOptions = {}) {
  const events: string[] = [];
  const errors: Error[] = [];
  const server = await FakeServer.start({
    onConnect: (conn) => void events.push(`connect ${conn.url}`),
    onMessage: (_conn, message) => void events.push(`message ${message}`),
    onDisconnect: (_conn, info) => void events.push(`disconnect ${info.code}`),
    onError: (error) => void errors.push(error),
    ...options,
  });
  return { server, events, errors };
}

const refused = (status: number, body: string) => ({ upgrade: false, status, body });

describe("upgrade policy: before onUpgrade", () => {
  test("only `path` upgrades (the query aside); others get 404", async () => {
    const { server } = await logged({ path: "/chat" });
    expect(await server.route("/chat?room=1")).toEqual({ upgrade: true });
    expect(await server.route("/chat/")).toMatchObject(refused(404, "Not Found"));
    expect(await server.route("/")).toMatchObject(refused(404, "Not Found"));
  });

  test("a plain request on the path gets 426 with the upgrade headers; elsewhere 404", async () => {
    const { server } = await logged({ path: "/ws" });
    expect(await server.route("/ws", { upgrade: undefined })).toEqual({
      ...refused(426, "Upgrade Required"),
      headers: { upgrade: "websocket", connection: "Upgrade" },
    });
    expect(await server.route("/x", { upgrade: undefined })).toMatchObject(refused(404, "Not Found"));
    const post = new LazyUpgradeRequest("POST", "/ws", { upgrade: "websocket" }, "127.0.0.1");
    expect(await server.engine.route(post)).toMatchObject({ status: 426 });
  });

  test("with no onUpgrade the decision is synchronous (no promise per connection)", async () => {
    const { server } = await logged();
    expect(server.route()).not.toBeInstanceOf(Promise);
    const withHook = await logged({ onUpgrade: () => undefined });
    expect(withHook.server.route()).toBeInstanceOf(Promise);
  });

  test("maxConnections: upgrades beyond get 503; a freed place is taken again", async () => {
    const { server, events } = await logged({ maxConnections: 2 });
    const first = await server.connect();
    await server.connect();
    expect(await server.route()).toMatchObject(refused(503, "Too many connections"));
    server.peerClose(first.conn);
    await until(() => events.includes("disconnect 1000"), "the first connection's onDisconnect");
    expect(await server.route()).toEqual({ upgrade: true });
  });

  test("a server shutting down answers 503", async () => {
    const { server } = await logged();
    await server.close();
    expect(await server.route()).toMatchObject(refused(503, "Server shutting down"));
  });

  test("allowedOrigins: a list (any case) or a predicate; other origins 403; no origin passes", async () => {
    const { server } = await logged({ allowedOrigins: ["https://app.example"] });
    expect(await server.route("/", { origin: "https://APP.example" })).toEqual({ upgrade: true });
    expect(await server.route("/", { origin: "https://evil.example" })).toMatchObject(
      refused(403, "Origin not allowed"),
    );
    expect(await server.route("/")).toEqual({ upgrade: true }); // not a browser
    const predicate = await logged({ allowedOrigins: (origin) => origin.endsWith(".example") });
    expect(await predicate.server.route("/", { origin: "https://a.example" })).toEqual({ upgrade: true });
    expect(await predicate.server.route("/", { origin: "https://a.test" })).toMatchObject({ status: 403 });
  });

  test("the path is checked before the origin, and onUpgrade runs only for what passed", async () => {
    const seen: string[] = [];
    const { server } = await logged({
      path: "/ws",
      allowedOrigins: ["https://ok.example"],
      onUpgrade: (request) => void seen.push(request.url),
    });
    expect(await server.route("/nope", { origin: "https://bad.example" })).toMatchObject({ status: 404 });
    expect(await server.route("/ws", { origin: "https://bad.example" })).toMatchObject({ status: 403 });
    expect(await server.route("/ws?ok", { origin: "https://ok.example" })).toEqual({ upgrade: true });
    expect(seen).toEqual(["/ws?ok"]);
  });
});

describe("upgrade policy: onUpgrade", () => {
  test("accepts with data and an offered protocol: they become conn.data and conn.protocol", async () => {
    const { server } = await logged({
      onUpgrade: async (request) => ({
        data: { user: request.header("x-user"), from: request.remoteAddress },
        protocol: "chat.v2",
      }),
    });
    const { conn } = await server.connect("/", {
      "x-user": "ada",
      "sec-websocket-protocol": "chat.v1, chat.v2",
    });
    expect(conn.data).toEqual({ user: "ada", from: "127.0.0.1" });
    expect(conn.protocol).toBe("chat.v2");
  });

  test("a protocol the client did not offer answers 500 and reports why", async () => {
    const { server, errors } = await logged({ onUpgrade: () => ({ protocol: "other" }) });
    expect(await server.route("/", { "sec-websocket-protocol": "chat" })).toMatchObject(
      refused(500, "Internal Server Error"),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: "ERR_HOOK",
      message: 'onUpgrade failed: onUpgrade chose protocol "other", not offered by the client',
    });
  });

  test("rejects with a status, body and headers; the body defaults to the status text", async () => {
    const { server, events } = await logged({
      onUpgrade: (request) =>
        request.header("x-key") === "k"
          ? { status: 401, headers: { "www-authenticate": "Key" } }
          : { status: 429, body: "slow down" },
    });
    expect(await server.route("/", { "x-key": "k" })).toEqual({
      ...refused(401, "Unauthorized"),
      headers: { "www-authenticate": "Key" },
    });
    expect(await server.route("/")).toMatchObject(refused(429, "slow down"));
    expect(events).toEqual([]);
  });

  test("a throwing or rejecting onUpgrade answers 500 and goes to onError", async () => {
    for (const onUpgrade of [
      () => {
        throw new Error("db down");
      },
      () => Promise.reject(new Error("db down")),
    ]) {
      const { server, errors } = await logged({ onUpgrade });
      expect(await server.route()).toMatchObject(refused(500, "Internal Server Error"));
      expect(errors.map((error) => error.message)).toEqual(["onUpgrade failed: db down"]);
    }
  });

  test("closeCode: accepted and closed at once with that code and the body as reason; no hook sees it", async () => {
    const { server, events } = await logged({
      onUpgrade: () => ({ status: 401, body: "sign in first", closeCode: 4401 }),
    });
    const { conn, transport } = await server.connect();
    expect(transport.closedWith).toEqual({ code: 4401, reason: "sign in first" });
    expect(conn.state).toBe("closed");
    expect(server.connections.size).toBe(0);
    server.receive(conn, "sent before the close arrived");
    server.peerClose(conn, 4401, "sign in first");
    await drainMicrotasks();
    expect(events).toEqual([]);
    expect(conn.send("x")).toBe(false);
  });

  test("closeCode: the reason defaults to the status text", async () => {
    const { server } = await logged({ onUpgrade: () => ({ status: 403, closeCode: 4403 }) });
    expect(await server.route()).toEqual({ upgrade: true, close: { code: 4403, reason: "Forbidden" } });
  });

  test("closeCode outside 4000-4999, or a reason over 123 bytes, answers 500 and reports why", async () => {
    const cases = [
      [
        { status: 401, closeCode: 1000 },
        "onUpgrade's closeCode must be an integer from 4000 to 4999, got number 1000",
      ],
      [
        { status: 401, closeCode: 4000.5 },
        "onUpgrade's closeCode must be an integer from 4000 to 4999, got number 4000.5",
      ],
      [
        { status: 401, closeCode: 4401, body: "x".repeat(124) },
        "close reason must be at most 123 UTF-8 bytes, got 124",
      ],
    ] as const;
    for (const [result, message] of cases) {
      const { server, errors } = await logged({ onUpgrade: () => result });
      expect(await server.route()).toMatchObject(refused(500, "Internal Server Error"));
      expect(errors.map((error) => error.message)).toEqual([`onUpgrade failed: ${message}`]);
    }
  });
});

describe("plain HTTP: onRequest", () => {
  /** Routes a plain GET to `url` and answers it as an adapter would. */
  async function answer(server: FakeServer, url: string, upgrade = false) {
    const headers = upgrade ? { upgrade: "websocket" } : {};
    const route = new LazyUpgradeRequest("GET", url, headers, "127.0.0.1");
    const decision = await server.engine.route(route);
    if (decision.upgrade) throw new Error(`expected ${url} to be refused`);
    const response = await server.engine.respond(new Request(`http://127.0.0.1${url}`), route, decision);
    return { status: response.status, body: await response.text() };
  }

  test("onRequest answers plain requests; undefined keeps the server's own answer", async () => {
    const { server } = await logged({
      path: "/ws",
      onRequest: (request) => (new URL(request.url).pathname === "/health" ? new Response("ok") : undefined),
    });
    expect(await answer(server, "/health")).toEqual({ status: 200, body: "ok" });
    expect(await answer(server, "/ws")).toEqual({ status: 426, body: "Upgrade Required" });
    expect(await answer(server, "/other")).toEqual({ status: 404, body: "Not Found" });
  });

  test("an upgrade to another path keeps its 404: onRequest never sees it", async () => {
    const seen: string[] = [];
    const { server } = await logged({
      path: "/ws",
      onRequest: (request) => {
        seen.push(request.url);
        return new Response("from onRequest");
      },
    });
    expect(await answer(server, "/elsewhere", true)).toEqual({ status: 404, body: "Not Found" });
    expect(seen).toEqual([]);
  });

  test("a throwing onRequest answers 500 and goes to onError", async () => {
    const { server, errors } = await logged({
      onRequest: () => {
        throw new Error("handler broke");
      },
    });
    expect(await answer(server, "/x")).toEqual({ status: 500, body: "Internal Server Error" });
    expect(errors.map((error) => error.message)).toEqual(["onRequest failed: handler broke"]);
  });
});
