/**
 * Server options: every bad value, and every unknown name, is a TypeError with
 * an exact message at construction; good values take effect.
 */
import { describe, expect, test } from "vitest";
import type { ServerOptions } from "../../src/core/options.ts";
import { FakeServer } from "./fake-runtime.ts";

const KNOWN =
  "port, hostname, path, maxPayload, heartbeat, idleTimeout, handshakeTimeout, maxConnections, " +
  "backpressure, compression, allowedOrigins, rateLimit, maxInvalidMessages, messages, keepHeaders, tls, metrics, onUpgrade, onConnect, " +
  "onMessage, onBinary, onDrain, onDisconnect, onError, validate, onRequest";

const HOOKS = [
  "onUpgrade",
  "onConnect",
  "onMessage",
  "onBinary",
  "onDrain",
  "onDisconnect",
  "onError",
  "validate",
  "onRequest",
] as const;

/** Bad options and the exact message each must throw. */
const BAD: ReadonlyArray<readonly [unknown, string]> = [
  [5, "options must be an object, got number 5"],
  [null, "options must be an object, got null"],
  [{ prot: 9000 }, `options.prot is not an option (did you mean port?); known: ${KNOWN}`],
  [{ onMesage: () => 1 }, `options.onMesage is not an option (did you mean onMessage?); known: ${KNOWN}`],
  [{ zzzzzzzzzz: 1 }, `options.zzzzzzzzzz is not an option; known: ${KNOWN}`],
  [{ port: -1 }, "options.port must be an integer from 0 to 65535, got number -1"],
  [{ port: 65536 }, "options.port must be an integer from 0 to 65535, got number 65536"],
  [{ port: 1.5 }, "options.port must be an integer from 0 to 65535, got number 1.5"],
  [{ port: "80" }, 'options.port must be an integer from 0 to 65535, got "80"'],
  [{ hostname: "" }, 'options.hostname must be a non-empty string, got ""'],
  [{ hostname: 127 }, "options.hostname must be a non-empty string, got number 127"],
  [{ path: "chat" }, 'options.path must be a string starting with "/", got "chat"'],
  [{ path: ["/"] }, 'options.path must be a string starting with "/", got an array'],
  [{ maxPayload: 0 }, "options.maxPayload must be an integer >= 1, got number 0"],
  [{ maxPayload: 1.5 }, "options.maxPayload must be an integer >= 1, got number 1.5"],
  [{ maxPayload: Number.NaN }, "options.maxPayload must be an integer >= 1, got number NaN"],
  [{ idleTimeout: -1 }, "options.idleTimeout must be an integer >= 0, got number -1"],
  [{ handshakeTimeout: 0 }, "options.handshakeTimeout must be an integer >= 1, got number 0"],
  [{ maxConnections: -1 }, "options.maxConnections must be an integer >= 0, got number -1"],
  [{ maxInvalidMessages: 0 }, "options.maxInvalidMessages must be an integer >= 1, got number 0"],
  [{ heartbeat: true }, "options.heartbeat must be an object or false, got boolean true"],
  [{ heartbeat: null }, "options.heartbeat must be an object or false, got null"],
  [{ heartbeat: { interval: 0 } }, "options.heartbeat.interval must be an integer >= 1, got number 0"],
  [{ heartbeat: { timeout: "1" } }, 'options.heartbeat.timeout must be an integer >= 1, got "1"'],
  [
    { heartbeat: { intervall: 5 } },
    "options.heartbeat.intervall is not an option (did you mean interval?); known: interval, timeout",
  ],
  [{ backpressure: "drop" }, 'options.backpressure must be an object, got "drop"'],
  [
    { backpressure: { policy: "block" } },
    'options.backpressure.policy must be "close" or "drop", got "block"',
  ],
  [{ backpressure: { limit: 0 } }, "options.backpressure.limit must be an integer >= 1, got number 0"],
  [
    { backpressure: { limt: 1 } },
    "options.backpressure.limt is not an option (did you mean limit?); known: limit, policy",
  ],
  [{ compression: "deflate" }, 'options.compression must be a boolean or an object, got "deflate"'],
  [
    { compression: { threshold: -1 } },
    "options.compression.threshold must be an integer >= 0, got number -1",
  ],
  [
    { compression: { serverContextTakeover: 1 } },
    "options.compression.serverContextTakeover must be a boolean, got number 1",
  ],
  [
    { compression: { concurrency: 0 } },
    "options.compression.concurrency must be an integer >= 1, got number 0",
  ],
  [
    { compression: { treshold: 10 } },
    "options.compression.treshold is not an option (did you mean threshold?); known: threshold, " +
      "serverContextTakeover, clientContextTakeover, concurrency",
  ],
  [{ allowedOrigins: "*" }, 'options.allowedOrigins must be a list of origins or a function, got "*"'],
  [{ allowedOrigins: [1] }, "options.allowedOrigins must be a list of origins or a function, got an array"],
  [{ rateLimit: true }, "options.rateLimit must be an object or false, got boolean true"],
  [
    { rateLimit: { messages: 0, per: 1 } },
    "options.rateLimit.messages must be an integer >= 1, got number 0",
  ],
  [{ rateLimit: { messages: 1, per: 0.5 } }, "options.rateLimit.per must be an integer >= 1, got number 0.5"],
  [
    { rateLimit: { messages: 1, per: 1, burst: 2 } },
    "options.rateLimit.burst is not an option; known: messages, per",
  ],
  [{ keepHeaders: "all" }, 'options.keepHeaders must be a boolean or a list of header names, got "all"'],
  [{ keepHeaders: [""] }, "options.keepHeaders must be a boolean or a list of header names, got an array"],
  ...HOOKS.map((hook) => [{ [hook]: "x" }, `options.${hook} must be a function, got "x"`] as const),
];

describe("options", () => {
  for (const [options, message] of BAD) {
    test(`throws: ${message}`, () => {
      expect(() => new FakeServer(options as ServerOptions)).toThrow(new TypeError(message));
    });
  }

  test("no options: every default; the port is the option's until listen(), the real one after", async () => {
    const server = new FakeServer();
    expect(server.port).toBe(0);
    expect(server.hostname).toBe("0.0.0.0");
    expect(server.path).toBe("/");
    await server.listen();
    expect(server.port).toBe(1);
  });

  test("limits the adapter receives: given values, defaults for the rest", async () => {
    const server = await FakeServer.start({ port: 8080, maxPayload: 64, heartbeat: { interval: 5 } });
    expect(server.engine.limits).toMatchObject({
      port: 8080,
      hostname: "0.0.0.0",
      maxPayload: 64,
      heartbeat: { interval: 5, timeout: 10_000 },
      handshakeTimeout: 10_000,
      backpressure: { limit: 4_194_304, policy: "close" },
    });
    const off = await FakeServer.start({
      heartbeat: false,
      backpressure: { policy: "drop" },
      maxPayload: Infinity,
    });
    expect(off.engine.limits).toMatchObject({
      heartbeat: false,
      backpressure: { limit: 4_194_304, policy: "drop" },
      maxPayload: Infinity,
    });
  });

  test("compression: off by default; true is every default; given values override them", async () => {
    expect((await FakeServer.start()).engine.limits.compression).toBe(false);
    const defaults = {
      threshold: 1024,
      serverContextTakeover: false,
      clientContextTakeover: false,
      concurrency: 10,
    };
    expect((await FakeServer.start({ compression: true })).engine.limits.compression).toEqual(defaults);
    const given = await FakeServer.start({ compression: { threshold: 0, clientContextTakeover: true } });
    expect(given.engine.limits.compression).toEqual({
      ...defaults,
      threshold: 0,
      clientContextTakeover: true,
    });
  });

  test("keepHeaders: listed names in any case; false keeps none; the default keeps all", async () => {
    const headers = { "x-token": "t", cookie: "c" };
    const listed = await FakeServer.start({ keepHeaders: ["X-Token"] });
    expect((await listed.connect("/", headers)).conn.headers).toEqual({ "x-token": "t" });
    const none = await FakeServer.start({ keepHeaders: false });
    expect((await none.connect("/", headers)).conn.headers).toEqual({});
    const all = await FakeServer.start();
    expect((await all.connect("/", headers)).conn.headers).toMatchObject(headers);
  });
});
