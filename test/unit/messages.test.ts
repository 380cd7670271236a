/**
 * The `messages` option on the fake runtime: "json" and Standard Schema schemas
 * (zod and valibot, and hand-written ones for async and broken schemas) parse
 * text before any hook; refusals are invalid messages (the reason sent,
 * counted toward maxInvalidMessages); an async schema never reorders a
 * connection's messages; binary frames are not parsed.
 */
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import type { Connection } from "../../src/core/connection.ts";
import type { CloseInfo, ServerOptions } from "../../src/core/options.ts";
import type { StandardResult, StandardSchemaV1 } from "../../src/core/standard-schema.ts";
import { drainMicrotasks, FakeServer, texts, until } from "./fake-runtime.ts";

/** One connection on a server with `options`; logs what reached the hooks, in one list. */
async function peer<Format>(options: ServerOptions<unknown, Format>) {
  const log: unknown[] = [];
  const closes: CloseInfo[] = [];
  const errors: Error[] = [];
  const server = await FakeServer.start<unknown, Format>({
    onMessage: (_conn, message) => void log.push(message),
    onDisconnect: (_conn, info) => {
      log.push("disconnect");
      closes.push(info);
    },
    onError: (error) => void errors.push(error),
    ...options,
  });
  const { conn, transport } = await server.connect();
  const closed = async () => {
    await until(() => closes.length === 1, "onDisconnect");
    return closes[0];
  };
  return { server, conn, transport, log, closes, errors, closed };
}

const Chat = z.object({ text: z.string(), items: z.array(z.object({ n: z.number() })).optional() });
const Move = v.object({
  x: v.number(),
  label: v.pipe(
    v.string(),
    v.transform((s) => s.toUpperCase()),
  ),
});

/** A schema answering each value with a promise the test settles (`release`), keeping count. */
function heldSchema() {
  const waiting: Array<{ value: unknown; settle: (result: StandardResult<unknown>) => void }> = [];
  const schema: StandardSchemaV1 = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) =>
        typeof value === "object" && value !== null && "sync" in value
          ? { value } // some values answer at once: a schema may be async only sometimes
          : new Promise((settle) => waiting.push({ value, settle })),
    },
  };
  /** Settles the waiting validation of `n`: accepted, or refused with `message`. */
  const release = (n: number, message?: string) => {
    const index = waiting.findIndex((entry) => (entry.value as { n: number }).n === n);
    if (index < 0) throw new Error(`no validation of ${n} is waiting`);
    const [entry] = waiting.splice(index, 1);
    entry!.settle(message ? { issues: [{ message, path: ["n"] }] } : { value: entry!.value });
  };
  return { schema, waiting, release };
}

describe('messages: "json"', () => {
  test("text is parsed: onMessage gets the value (objects, arrays, strings, numbers, null)", async () => {
    const { server, conn, transport, log } = await peer({ messages: "json" });
    for (const text of ['{"a":[1,{"b":null}]}', "[1,2]", '"hi"', "42", "null", " true "]) {
      server.receive(conn, text);
    }
    expect(log).toEqual([{ a: [1, { b: null }] }, [1, 2], "hi", 42, null, true]);
    expect(texts(transport)).toEqual([]);
  });

  test("a sync format delivers within the frame's own event (no promise, nothing held)", async () => {
    const { server, conn, log } = await peer({ messages: Chat });
    server.receive(conn, '{"text":"now"}');
    expect(log).toEqual([{ text: "now" }]);
  });

  test("malformed JSON is refused: the sender gets `Invalid message: malformed JSON`, nobody sees it", async () => {
    const refused: string[] = [];
    const { server, conn, transport, log } = await peer({
      messages: "json",
      maxInvalidMessages: 10,
      metrics: { refused: (reason) => void refused.push(reason) },
    });
    for (const text of ["{nope", "", "[1,", "'single'", "undefined"]) server.receive(conn, text);
    expect(log).toEqual([]);
    expect(texts(transport)).toEqual(Array(5).fill("Invalid message: malformed JSON"));
    expect(refused).toEqual(Array(5).fill("invalid_message"));
    expect(transport.closedWith).toBeUndefined();
  });

  test("maxInvalidMessages in a row close with 1008; a valid message in between starts the count over", async () => {
    const { server, conn, transport, log, closed } = await peer({ messages: "json", maxInvalidMessages: 3 });
    for (const text of ["x", "x", "{}", "x", "x"]) server.receive(conn, text);
    expect(log).toEqual([{}]);
    expect(transport.closedWith).toBeUndefined();
    server.receive(conn, "x");
    expect(transport.closedWith).toEqual({ code: 1008, reason: "3 invalid messages in a row" });
    expect(await closed()).toMatchObject({ code: 1008, error: { code: "ERR_INVALID_MESSAGE" } });
    expect(texts(transport)).toEqual(Array(5).fill("Invalid message: malformed JSON"));
  });

  test("size and rate are checked as for text: 1009 past maxPayload, 1008 past the rate", async () => {
    const big = await peer({ messages: "json", maxPayload: 8 });
    big.server.receive(big.conn, '"123456789"');
    expect((await big.closed())?.code).toBe(1009);
    expect(big.log).toEqual(["disconnect"]);
    const fast = await peer({ messages: "json", rateLimit: { messages: 2, per: 60_000 } });
    for (const text of ["1", "2", "3"]) fast.server.receive(fast.conn, text);
    expect((await fast.closed())?.code).toBe(1008);
    expect(fast.log).toEqual([1, 2, "disconnect"]);
  });

  test("validate checks the parsed value; its refusals count with malformed JSON", async () => {
    const seen: unknown[] = [];
    const { server, conn, transport, log, closed } = await peer({
      messages: "json",
      maxInvalidMessages: 2,
      validate: (_conn, message) => {
        seen.push(message);
        return message === 13 ? "unlucky" : true;
      },
    });
    server.receive(conn, "12");
    server.receive(conn, "13");
    server.receive(conn, "nope");
    expect(seen).toEqual([12, 13]);
    expect(log).toEqual([12]);
    expect(texts(transport)).toEqual(["Invalid message: unlucky", "Invalid message: malformed JSON"]);
    expect((await closed())?.code).toBe(1008);
  });
});

describe("messages: a schema", () => {
  test("zod: the refusal names the path and zod's message; onMessage never sees the value", async () => {
    const { server, conn, transport, log } = await peer({ messages: Chat });
    server.receive(conn, '{"text":5}');
    server.receive(conn, '{"text":"a","items":[{"n":1},{"n":"x"}]}');
    server.receive(conn, '"just a string"');
    server.receive(conn, '{"text":5,"items":3}');
    server.receive(conn, '{"text":"ok","extra":1}');
    expect(texts(transport)).toEqual([
      "Invalid message: at text: Invalid input: expected string, received number",
      "Invalid message: at items[1].n: Invalid input: expected number, received string",
      "Invalid message: Invalid input: expected object, received string",
      "Invalid message: at text: Invalid input: expected string, received number (and 1 more)",
    ]);
    expect(log).toEqual([{ text: "ok" }]); // zod strips unknown keys: the output, not the input
  });

  test("valibot: path segments are objects with a key; onMessage gets the transformed output", async () => {
    const { server, conn, transport, log } = await peer({ messages: Move });
    server.receive(conn, '{"x":1,"label":7}');
    server.receive(conn, '{"x":2,"label":"up"}');
    expect(texts(transport)).toEqual([
      "Invalid message: at label: Invalid type: Expected string but received 7",
    ]);
    expect(log).toEqual([{ x: 2, label: "UP" }]);
  });

  test("schema refusals, malformed JSON and validate refusals count together toward maxInvalidMessages", async () => {
    const { server, conn, transport, closed, log } = await peer({
      messages: Chat,
      maxInvalidMessages: 3,
      validate: (_conn, message) =>
        (typeof message === "object" && "text" in message && message.text) || "empty",
    });
    server.receive(conn, '{"text":1}');
    server.receive(conn, "{");
    server.receive(conn, '{"text":""}');
    expect(await closed()).toMatchObject({ code: 1008, error: { code: "ERR_INVALID_MESSAGE" } });
    expect(texts(transport)).toEqual([
      "Invalid message: at text: Invalid input: expected string, received number",
      "Invalid message: malformed JSON",
      "Invalid message: empty",
    ]);
    expect(log).toEqual(["disconnect"]);
  });

  test("a schema that throws, rejects or answers nonsense refuses (fail closed) and reports to onError", async () => {
    let answer: () => unknown = () => {
      throw new Error("schema bug");
    };
    const broken: StandardSchemaV1 = {
      "~standard": { version: 1, vendor: "test", validate: () => answer() as StandardResult<unknown> },
    };
    const { server, conn, transport, errors, log } = await peer({ messages: broken });
    server.receive(conn, "1");
    answer = () => Promise.reject(new Error("async bug"));
    server.receive(conn, "2");
    await until(() => errors.length === 2, "the rejection reported");
    answer = () => "yes";
    server.receive(conn, "3");
    expect(log).toEqual([]);
    expect(texts(transport)).toEqual(Array(3).fill("Invalid message: validation failed"));
    expect(errors.map((error) => [(error as { code?: string }).code, error.message])).toEqual([
      ["ERR_HOOK", "messages schema failed: schema bug"],
      ["ERR_HOOK", "messages schema failed: async bug"],
      ["ERR_HOOK", 'messages schema failed: the schema\'s validate returned "yes", not a result'],
    ]);
  });
});

describe("messages: an async schema keeps each connection's order", () => {
  test("later messages wait for an earlier one's validation, also those that validate at once", async () => {
    const { schema, waiting, release } = heldSchema();
    const { server, conn, transport, log } = await peer({ messages: schema });
    server.receive(conn, '{"n":1}');
    server.receive(conn, '{"sync":true}');
    server.receive(conn, '{"n":3}');
    server.receive(conn, "oops");
    await drainMicrotasks();
    expect(waiting.map((entry) => entry.value)).toEqual([{ n: 1 }]); // 3 is not even validated yet
    expect(log).toEqual([]);
    release(1);
    await until(() => waiting.length === 1, "message 3 validated after 1 and the sync one");
    expect(log).toEqual([{ n: 1 }, { sync: true }]);
    release(3, "too odd");
    await until(() => texts(transport).length === 2, "two refusals");
    expect(texts(transport)).toEqual(["Invalid message: at n: too odd", "Invalid message: malformed JSON"]);
    expect(log).toEqual([{ n: 1 }, { sync: true }]);
  });

  test("two connections do not wait for each other", async () => {
    const { schema, release } = heldSchema();
    const { server, conn, log } = await peer({ messages: schema });
    const other = await server.connect();
    server.receive(conn, '{"n":1}');
    server.receive(other.conn, '{"sync":"other"}');
    expect(log).toEqual([{ sync: "other" }]);
    release(1);
    await until(() => log.length === 2, "message 1");
  });

  test("onDisconnect waits for the messages still being validated", async () => {
    const { schema, release } = heldSchema();
    const { server, conn, log } = await peer({ messages: schema });
    server.receive(conn, '{"n":1}');
    server.peerClose(conn, 1000);
    await drainMicrotasks();
    expect(log).toEqual([]);
    release(1);
    await until(() => log.length === 2, "onMessage, then onDisconnect");
    expect(log).toEqual([{ n: 1 }, "disconnect"]);
  });

  test("after the close for invalid messages, the messages queued behind reach nobody", async () => {
    const { schema, release } = heldSchema();
    const { server, conn, transport, log, closed } = await peer({ messages: schema, maxInvalidMessages: 2 });
    for (const n of [1, 2]) server.receive(conn, `{"n":${n}}`);
    server.receive(conn, '{"sync":"late"}');
    release(1, "bad");
    await until(() => texts(transport).length === 1, "the first refusal");
    release(2, "bad");
    expect((await closed())?.code).toBe(1008);
    expect(log).toEqual(["disconnect"]);
  });

  test("after an async onConnect, messages are validated in order", async () => {
    const { schema, waiting, release } = heldSchema();
    let connected!: () => void;
    const { server, conn, log } = await peer({
      messages: schema,
      onConnect: () => new Promise<void>((resolve) => (connected = resolve)),
    });
    server.receive(conn, '{"n":1}');
    server.receive(conn, '{"sync":2}');
    await drainMicrotasks();
    expect(waiting).toEqual([]); // nothing is validated before onConnect settles
    connected();
    await until(() => waiting.length === 1, "message 1 validated once onConnect settled");
    expect(log).toEqual([]);
    release(1);
    await until(() => log.length === 2, "both messages");
    expect(log).toEqual([{ n: 1 }, { sync: 2 }]);
  });

  test("close() waits for a pending validation, then every onDisconnect has run", async () => {
    const { schema, release } = heldSchema();
    const { server, conn, log } = await peer({ messages: schema });
    server.receive(conn, '{"n":1}');
    let done = false;
    const closing = server.close({ timeout: 5000 }).then(() => (done = true));
    await drainMicrotasks();
    expect(done).toBe(false);
    release(1);
    await closing;
    expect(log).toEqual([{ n: 1 }, "disconnect"]);
  });
});

describe("messages: binary frames", () => {
  test("bytes are not parsed: they go to onBinary as they came (validate sees the bytes)", async () => {
    const binary: Uint8Array[] = [];
    const checked: unknown[] = [];
    const { server, conn, log } = await peer({
      messages: "json",
      onBinary: (_conn: Connection, data: Uint8Array) => void binary.push(data),
      validate: (_conn, message) => {
        checked.push(message);
        return true;
      },
    });
    server.receive(conn, new TextEncoder().encode('{"a":1}'));
    server.receive(conn, '{"a":1}');
    expect(binary).toEqual([new TextEncoder().encode('{"a":1}')]);
    expect(log).toEqual([{ a: 1 }]);
    expect(checked).toEqual([new TextEncoder().encode('{"a":1}'), { a: 1 }]);
  });

  test("without onBinary, bytes close the connection with 1003, as for text", async () => {
    const { server, conn, closed } = await peer({ messages: Chat });
    server.receive(conn, new Uint8Array([123, 125]));
    expect(await closed()).toMatchObject({ code: 1003, error: { code: "ERR_UNSUPPORTED_DATA" } });
  });

  test("bytes wait behind a pending validation too", async () => {
    const { schema, release } = heldSchema();
    const order: unknown[] = [];
    const { server, conn } = await peer({
      messages: schema,
      onMessage: (_conn, message) => void order.push(message),
      onBinary: (_conn, data) => void order.push(data),
    });
    server.receive(conn, '{"n":1}');
    server.receive(conn, new Uint8Array([7]));
    await drainMicrotasks();
    expect(order).toEqual([]);
    release(1);
    await until(() => order.length === 2, "both");
    expect(order).toEqual([{ n: 1 }, new Uint8Array([7])]);
  });
});

describe("messages: the option", () => {
  test.each([
    ["xml", 'got "xml"'],
    [42, "got number 42"],
    [{ validate: () => true }, "got an object"],
    [{ "~standard": { version: 2, validate: () => ({ value: 1 }) } }, "got an object"],
    [null, "got null"],
  ])("%j is refused with a TypeError", (messages, got) => {
    expect(() => new FakeServer({ messages } as never)).toThrow(
      new TypeError(
        `options.messages must be "text", "json" or a Standard Schema (with ~standard.version 1 and ~standard.validate), ${got}`,
      ),
    );
  });

  test('"text", a schema object and a callable schema (as arktype makes) are accepted', async () => {
    const callable = Object.assign(() => undefined, {
      "~standard": { version: 1 as const, vendor: "fn", validate: (value: unknown) => ({ value }) },
    });
    expect(() => new FakeServer({ messages: "text" })).not.toThrow();
    const { server, conn, log } = await peer({ messages: callable });
    server.receive(conn, "[1]");
    expect(log).toEqual([[1]]);
  });

  test('"text" (the default) leaves messages as strings, JSON or not', async () => {
    const { server, conn, log } = await peer({ messages: "text" });
    server.receive(conn, '{"a":1}');
    server.receive(conn, "{nope");
    expect(log).toEqual(['{"a":1}', "{nope"]);
  });
});
