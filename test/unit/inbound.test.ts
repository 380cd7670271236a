/**
 * Inbound policies, checked before any hook sees a message: maxPayload (1009),
 * rateLimit (1008), validate and maxInvalidMessages (1008), binary without
 * onBinary (1003). Each close carries its policy error to onDisconnect.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import type { CloseInfo, ServerOptions } from "../../src/core/options.ts";
import { FakeServer, until } from "./fake-runtime.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** One connection on a server with `options`; logs what reached the hooks. */
async function peer(options: ServerOptions = {}) {
  const delivered: Array<string | Uint8Array> = [];
  const closes: CloseInfo[] = [];
  const errors: Error[] = [];
  const server = await FakeServer.start({
    onMessage: (_conn, message) => void delivered.push(message),
    onDisconnect: (_conn, info) => void closes.push(info),
    onError: (error) => void errors.push(error),
    ...options,
  });
  const { conn, transport } = await server.connect();
  const closed = async () => {
    await until(() => closes.length === 1, "onDisconnect");
    return closes[0];
  };
  return { server, conn, transport, delivered, closes, errors, closed };
}

describe("inbound: maxPayload", () => {
  test("a message of exactly maxPayload bytes passes; one byte more closes with 1009", async () => {
    const { server, conn, transport, delivered, closed } = await peer({ maxPayload: 10 });
    server.receive(conn, "0123456789");
    expect(delivered).toEqual(["0123456789"]);
    server.receive(conn, "0123456789x");
    expect(delivered).toHaveLength(1);
    expect(transport.closedWith).toEqual({ code: 1009, reason: "message over 10 bytes" });
    expect(await closed()).toMatchObject({
      code: 1009,
      reason: "message over 10 bytes",
      error: { code: "ERR_PAYLOAD_TOO_LARGE", status: 1009 },
    });
  });

  test("text is measured in UTF-8 bytes, not characters (2-, 3- and 4-byte characters)", async () => {
    for (const [fits, over] of [
      ["é".repeat(5), "é".repeat(6)], // 10 bytes, 12 bytes
      ["€€€a", "€€€€"], // 10 bytes, 12 bytes
      ["😀😀aa", "😀😀😀"], // 10 bytes, 12 bytes
    ] as const) {
      const { server, conn, delivered, closed } = await peer({ maxPayload: 10 });
      server.receive(conn, fits);
      expect(delivered, `${fits} is 10 bytes`).toEqual([fits]);
      server.receive(conn, over);
      expect((await closed())?.code, `${over} is 12 bytes`).toBe(1009);
      expect(delivered).toEqual([fits]);
    }
  });

  test("binary is measured in bytes too", async () => {
    const binary: Uint8Array[] = [];
    const { server, conn, closed } = await peer({
      maxPayload: 4,
      onBinary: (_c, data) => void binary.push(data),
    });
    server.receive(conn, new Uint8Array(4));
    server.receive(conn, new Uint8Array(5));
    expect(binary).toEqual([new Uint8Array(4)]);
    expect((await closed())?.code).toBe(1009);
  });
});

describe("inbound: binary", () => {
  test("binary without onBinary closes with 1003; onMessage never sees it", async () => {
    const { server, conn, transport, delivered, closed } = await peer();
    server.receive(conn, new Uint8Array([1, 2, 3]));
    expect(delivered).toEqual([]);
    expect(transport.closedWith).toEqual({ code: 1003, reason: "binary messages are not supported" });
    expect(await closed()).toMatchObject({ code: 1003, error: { code: "ERR_UNSUPPORTED_DATA" } });
  });

  test("with onBinary, bytes go to onBinary and text to onMessage", async () => {
    const binary: Uint8Array[] = [];
    const { server, conn, delivered, transport } = await peer({
      onBinary: (_c, data) => void binary.push(data),
    });
    server.receive(conn, new Uint8Array([9]));
    server.receive(conn, "text");
    expect(binary).toEqual([new Uint8Array([9])]);
    expect(delivered).toEqual(["text"]);
    expect(transport.closedWith).toBeUndefined();
  });
});

describe("inbound: rateLimit", () => {
  test("past `messages` in one window the connection is closed with 1008; a new window starts over", async () => {
    vi.useFakeTimers();
    const { server, conn, transport, delivered, closed } = await peer({
      rateLimit: { messages: 3, per: 1000 },
    });
    for (const message of ["1", "2", "3"]) server.receive(conn, message);
    await vi.advanceTimersByTimeAsync(1000);
    for (const message of ["4", "5", "6"]) server.receive(conn, message);
    expect(delivered).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(transport.closedWith).toBeUndefined();
    server.receive(conn, "7");
    expect(delivered).toHaveLength(6);
    expect(transport.closedWith).toEqual({ code: 1008, reason: "over 3 messages per 1000 ms" });
    expect(await closed()).toMatchObject({ code: 1008, error: { code: "ERR_RATE_LIMIT" } });
  });
});

describe("inbound: validate", () => {
  const rule = (_conn: Connection, message: string | Uint8Array) =>
    message === "bad" ? "no bad words" : true;

  test("a refused message reaches nobody; its sender gets 'Invalid message: {reason}'", async () => {
    const { server, conn, transport, delivered } = await peer({ validate: rule });
    server.receive(conn, "good");
    server.receive(conn, "bad");
    expect(delivered).toEqual(["good"]);
    expect(transport.messages).toEqual(["Invalid message: no bad words"]);
    expect(transport.closedWith).toBeUndefined();
  });

  test("a Refusal chooses the reply", async () => {
    const { server, conn, transport, delivered } = await peer({
      validate: () => ({ reason: "too loud", reply: "please whisper" }),
    });
    server.receive(conn, "HELLO");
    expect(delivered).toEqual([]);
    expect(transport.messages).toEqual(["please whisper"]);
  });

  test("maxInvalidMessages in a row close with 1008; a valid one in between resets the count", async () => {
    const { server, conn, transport, delivered, closed } = await peer({
      validate: rule,
      maxInvalidMessages: 3,
    });
    for (const message of ["bad", "bad", "ok", "bad", "bad"]) server.receive(conn, message);
    expect(transport.closedWith).toBeUndefined();
    server.receive(conn, "bad");
    expect(delivered).toEqual(["ok"]);
    expect(transport.messages).toHaveLength(5); // every refusal answered, the fifth one included
    expect(transport.closedWith).toEqual({ code: 1008, reason: "3 invalid messages in a row" });
    expect(await closed()).toMatchObject({ code: 1008, error: { code: "ERR_INVALID_MESSAGE" } });
  });

  test("a throwing validate refuses the message (fail closed) and reports ERR_HOOK", async () => {
    const { server, conn, transport, delivered, errors } = await peer({
      validate: () => {
        throw new Error("rule crashed");
      },
    });
    server.receive(conn, "anything");
    expect(delivered).toEqual([]);
    expect(transport.messages).toEqual(["Invalid message: validation failed"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "ERR_HOOK", message: "validate failed: rule crashed" });
  });

  test("validate sees binary too (with onBinary)", async () => {
    const binary: Uint8Array[] = [];
    const { server, conn, transport } = await peer({
      onBinary: (_c, data) => void binary.push(data),
      validate: (_c, message) => (typeof message === "string" ? true : "text only"),
    });
    server.receive(conn, new Uint8Array([1]));
    expect(binary).toEqual([]);
    expect(transport.messages).toEqual(["Invalid message: text only"]);
  });
});
