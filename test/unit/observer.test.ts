/**
 * The `metrics` option in the core: validation (exact TypeErrors), a partial
 * observer, and what each fan-out path reports: one call per publish, whatever
 * its recipients, with UTF-8 payload sizes.
 */
import { describe, expect, test } from "vitest";
import { OBSERVER_METHODS, utf8Length } from "../../src/core/observer.ts";
import type { ServerOptions } from "../../src/core/options.ts";
import { FakeServer, WIRES } from "./fake-runtime.ts";

const KNOWN = OBSERVER_METHODS.join(", ");

describe("metrics option", () => {
  test.each([
    [5, "options.metrics must be an object of observer methods, got number 5"],
    [null, "options.metrics must be an object of observer methods, got null"],
    [
      { connectionOpen() {} },
      `options.metrics.connectionOpen is not an option (did you mean connectionOpened?); known: ${KNOWN}`,
    ],
    [{ published: 1 }, "options.metrics.published must be a function, got number 1"],
  ])("rejects %o", (metrics, message) => {
    expect(() => new FakeServer({ metrics } as ServerOptions)).toThrow(new TypeError(message));
  });

  test("utf8Length counts UTF-8 bytes exactly (pairs 4, lone surrogates 3 as sent)", () => {
    for (const text of ["", "ascii", "héllo", "€", "🙂", "a🙂b€é", "\ud800", "x\udc00y"]) {
      const sent = new TextEncoder().encode(text).length;
      expect(utf8Length(text), JSON.stringify(text)).toBe(sent);
    }
  });

  for (const kind of WIRES) {
    test(`[${kind} wire] a partial observer; a publish to 3 is one call (3 deliveries of its bytes)`, async () => {
      const calls: unknown[][] = [];
      const metrics = {
        published: (deliveries: number, bytes: number) => calls.push(["published", deliveries, bytes]),
        messageSent: (bytes: number) => calls.push(["sent", bytes]),
        subscribed: (first: boolean) => calls.push(["subscribed", first]),
      };
      const server = await FakeServer.start({ metrics }, kind);
      const peers = [await server.connect(), await server.connect(), await server.connect()];
      for (const { conn } of peers) conn.subscribe("t");
      expect(server.publish("t", "héllo")).toBe(3);
      peers[0]!.conn.send("€");
      expect(calls).toEqual([
        ["subscribed", true],
        ["subscribed", false],
        ["subscribed", false],
        ["published", 3, 6],
        ["sent", 3],
      ]);
    });
  }
});
