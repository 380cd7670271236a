/**
 * The upgrade request the adapters build: header lookups give the same answers
 * from fetch `Headers`, from Node's header object, and after `keepHeaders`
 * (the copy a connection keeps).
 */
import { describe, expect, test } from "vitest";
import { LazyUpgradeRequest } from "../src/core/headers.ts";

const fetchHeaders = () =>
  new Headers([
    ["Host", "127.0.0.1:8080"],
    ["Upgrade", "websocket"],
    ["X-A", "1"],
    ["X-Ab", "two: with a colon"],
    ["Cookie", "a=1"],
  ]);
const nodeHeaders = {
  host: "127.0.0.1:8080",
  upgrade: "websocket",
  "x-a": "1",
  "x-ab": "two: with a colon",
  "x-many": ["first", "second"],
};

describe("LazyUpgradeRequest", () => {
  for (const packed of [false, true]) {
    const label = packed ? "kept for the connection" : "as the runtime gave them";
    test(`fetch Headers, ${label}: lower-case names, exact values, missing is undefined`, () => {
      const request = new LazyUpgradeRequest("GET", "http://h/ws?x=1", fetchHeaders(), "::1");
      if (packed) request.keepHeaders(true);
      expect(request.upgrade).toBe(true);
      expect(request.url).toBe("/ws?x=1");
      expect(request.header("x-a")).toBe("1");
      expect(request.header("x-ab")).toBe("two: with a colon");
      expect(request.header("host")).toBe("127.0.0.1:8080");
      expect(request.header("x-missing")).toBeUndefined();
      expect(request.headers).toEqual({
        host: "127.0.0.1:8080",
        upgrade: "websocket",
        "x-a": "1",
        "x-ab": "two: with a colon",
        cookie: "a=1",
      });
      expect(Object.isFrozen(request.headers)).toBe(true);
    });

    test(`Node's header object, ${label}: repeats joined with ", "`, () => {
      const request = new LazyUpgradeRequest("GET", "/ws", nodeHeaders, "127.0.0.1");
      if (packed) request.keepHeaders(true);
      expect(request.header("x-many")).toBe("first, second");
      expect(request.header("x-ab")).toBe("two: with a colon");
      expect(request.headers["x-many"]).toBe("first, second");
      expect(request.header("x-a")).toBe("1"); // after the record is built, too
    });
  }

  test("keepHeaders(false) keeps none, from any source", () => {
    for (const source of [fetchHeaders(), nodeHeaders]) {
      const request = new LazyUpgradeRequest("GET", "/ws", source, "");
      request.keepHeaders(false);
      expect(request.header("host")).toBeUndefined();
      expect(request.headers).toEqual({});
      expect(Object.isFrozen(request.headers)).toBe(true);
    }
  });

  test("keepHeaders(names) keeps those, also after the full record was read", () => {
    for (const source of [fetchHeaders(), nodeHeaders]) {
      for (const readFirst of [false, true]) {
        const request = new LazyUpgradeRequest("GET", "/ws", source, "");
        if (readFirst) expect(Object.keys(request.headers).length).toBeGreaterThan(3);
        request.keepHeaders(["x-ab", "x-a", "x-absent"]);
        expect(request.header("x-ab")).toBe("two: with a colon");
        expect(request.header("host")).toBeUndefined();
        expect(request.headers).toEqual({ "x-ab": "two: with a colon", "x-a": "1" });
      }
    }
  });

  test("a request without an upgrade header is not an upgrade", () => {
    expect(new LazyUpgradeRequest("GET", "/ws", {}, "").upgrade).toBe(false);
    expect(new LazyUpgradeRequest("POST", "/ws", nodeHeaders, "").upgrade).toBe(false);
    expect(new LazyUpgradeRequest("GET", "/ws", nodeHeaders, "", false).upgrade).toBe(false);
  });
});
