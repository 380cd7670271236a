/**
 * The typed messages suite: `messages` with a zod schema and with a valibot one
 * (fixture scenarios "messages-zod" and "messages-valibot"), against each
 * runtime with real `ws` clients: values in and re-encoded out, refusals that
 * name the path and the schema's message, 1008 after three invalid in a row,
 * order kept by async schemas, and binary frames as decided (onBinary gets
 * the bytes unparsed; without it, 1003).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestClient } from "./harness/client.ts";
import { Fixture, type FixtureEvent } from "./harness/fixture.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

/** What each library says about `{"type":"say","text":5}` and about a message of no known type. */
const LIBRARIES = [
  {
    name: "zod",
    wrongType: "Invalid message: at text: Invalid input: expected string, received number",
    unknownType: "Invalid message: at type: Invalid discriminator value. Expected 'say' | 'slow' | 'whoami'",
    tooLong: "Invalid message: at text: Too big: expected string to have <=100 characters",
    binary: "closes with 1003",
  },
  {
    name: "valibot",
    wrongType: "Invalid message: at text: Invalid type: Expected string but received 5",
    unknownType:
      'Invalid message: at type: Invalid type: Expected ("say" | "slow" | "whoami") but received "shout"',
    tooLong: "Invalid message: at text: Invalid length: Expected <=100 but received 101",
    binary: "echoed unparsed",
  },
] as const;

const disconnectOf = (id: string) => (e: FixtureEvent) => e.ev === "disconnect" && e.id === id;

export function messagesSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  for (const library of LIBRARIES) {
    describe(`[${variant.name}] typed messages (${library.name})`, () => {
      let fixture: Fixture;
      const clients: TestClient[] = [];
      const open = async () => {
        const client = await TestClient.open(fixture.url);
        clients.push(client);
        return client;
      };
      /** Sends `value` as JSON and returns the next reply, parsed when it is JSON. */
      const ask = async (client: TestClient, value: unknown) => {
        client.send(JSON.stringify(value));
        const reply = await client.nextText();
        return reply.startsWith("{") ? JSON.parse(reply) : reply;
      };

      beforeAll(async () => {
        fixture = await Fixture.start(runtime, `messages-${library.name}`, variant.env);
      });
      afterAll(async () => {
        for (const client of clients) client.socket.terminate();
        await fixture?.process.stop("SIGKILL");
      });

      test("valid JSON reaches onMessage as the schema's output, echoed back re-encoded", async () => {
        const client = await open();
        const sent = { type: "say", text: "héllo 👋", n: 3, extra: "stripped by the schema" };
        expect(await ask(client, sent)).toEqual({ echo: { type: "say", text: "héllo 👋", n: 3 } });
        client.send('  {"text":"spaces and order do not matter","type":"say"}  ');
        expect(JSON.parse(await client.nextText())).toEqual({
          echo: { type: "say", text: "spaces and order do not matter" },
        });
      });

      test("malformed JSON is refused with the reason; the connection stays open", async () => {
        const client = await open();
        for (const text of ["{nope", "", '{"type":"say",}']) {
          client.send(text);
          expect(await client.nextText(), `the refusal of ${JSON.stringify(text)}`).toBe(
            "Invalid message: malformed JSON",
          );
          expect(await ask(client, { type: "say", text: "still here" })).toMatchObject({
            echo: { text: "still here" },
          });
        }
      });

      test("a value the schema refuses: the refusal names the path and the schema's message", async () => {
        const client = await open();
        const fine = { type: "say", text: "fine" };
        // A valid message after each refusal: three invalid in a row would close the connection.
        for (const [value, refusal] of [
          [{ type: "say", text: 5 }, library.wrongType],
          [{ type: "shout", text: "hi" }, library.unknownType],
          [{ type: "say", text: "x".repeat(101) }, library.tooLong],
        ] as const) {
          expect(await ask(client, value)).toBe(refusal);
          expect(await ask(client, fine)).toEqual({ echo: fine });
        }
      });

      test("three invalid messages in a row close with 1008 (malformed and refused alike)", async () => {
        const client = await open();
        const { id } = await ask(client, { type: "whoami" });
        for (const text of ["{", JSON.stringify({ type: "say" }), "[1,2]"]) client.send(text);
        const refusals = [await client.nextText(), await client.nextText(), await client.nextText()];
        expect(refusals[0]).toBe("Invalid message: malformed JSON");
        expect(refusals.slice(1).every((text) => text.startsWith("Invalid message: "))).toBe(true);
        expect(await client.closed).toEqual({ code: 1008, reason: "3 invalid messages in a row" });
        expect(await fixture.waitFor(disconnectOf(id))).toMatchObject({
          code: 1008,
          error: "ERR_INVALID_MESSAGE",
        });
      });

      test("an async schema keeps the connection's order: a slow message holds back quick ones", async () => {
        const client = await open();
        const delays = [150, 0, 60, 0, 10, 0];
        const started = Date.now();
        delays.forEach((delay, n) => void client.send(JSON.stringify({ type: "slow", n, delay })));
        client.send(JSON.stringify({ type: "say", text: "last", n: 99 }));
        await client.receive(client.messages.length + delays.length + 1);
        const elapsed = Date.now() - started;
        const echoed = client.messages.slice(-7).map((text) => JSON.parse(text as string).echo.n);
        expect(echoed).toEqual([0, 1, 2, 3, 4, 5, 99]);
        // Validated one after another: at least the delays' sum; well within the deadline.
        expect(elapsed, "ms for the seven replies").toBeGreaterThanOrEqual(215);
        expect(elapsed, "ms for the seven replies").toBeLessThan(5000);
      });

      test(`binary frames are not parsed: ${library.binary}`, async () => {
        const client = await open();
        const bytes = new TextEncoder().encode(JSON.stringify({ type: "say", text: "as bytes" }));
        client.send(bytes);
        if (library.name === "valibot") {
          expect(await client.next()).toEqual(bytes);
          expect(await ask(client, { type: "say", text: "then text" })).toMatchObject({
            echo: { text: "then text" },
          });
        } else {
          expect(await client.closed).toEqual({ code: 1003, reason: "binary messages are not supported" });
        }
      });
    });
  }
}
