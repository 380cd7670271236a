/**
 * The socket-error classifier against `ws`'s own errors: a real `ws` Receiver
 * (the frame parser the Node adapter runs) is fed bad frames, and the status
 * the classifier reads must be the one `ws` closes the connection with. Bun's
 * and Deno's texts are checked on those runtimes by the hostile-input suite.
 */

import { describe, expect, test } from "vitest";
import * as ws from "ws";
import { classifySocketError } from "../../src/core/socket-errors.ts";
import { frame } from "../harness/raw.ts";

interface WsReceiver {
  on(event: "error", listener: (error: Error) => void): void;
  write(chunk: Buffer): void;
}
/** `ws` exports its Receiver and PerMessageDeflate, untyped by @types/ws. */
const { Receiver, PerMessageDeflate } = ws as unknown as {
  Receiver: new (options: object) => WsReceiver;
  PerMessageDeflate: new (options: object, isServer: boolean) => { accept(offers: object[]): void };
};

/** The error a server-side `ws` Receiver raises for `bytes`. */
function wsError(bytes: Buffer, options: object = {}): Promise<Error> {
  const receiver = new Receiver({ isServer: true, maxPayload: 1024, ...options });
  return new Promise((resolve) => {
    receiver.on("error", resolve);
    receiver.write(bytes);
  });
}

const closeWith = (code: number) => frame(8, Buffer.from([code >> 8, code & 0xff]));

describe("classifySocketError: ws", () => {
  const cases: [string, () => Buffer, object, number, string][] = [
    ["an invalid close code", () => closeWith(1005), {}, 1002, "ERR_PROTOCOL"],
    ["a 1-byte close payload", () => frame(8, Buffer.from([3])), {}, 1002, "ERR_PROTOCOL"],
    ["a 126-byte ping", () => frame(9, Buffer.alloc(126)), {}, 1002, "ERR_PROTOCOL"],
    ["invalid UTF-8", () => frame(1, Buffer.from([0xff])), {}, 1007, "ERR_INVALID_DATA"],
    ["a message over maxPayload", () => frame(2, Buffer.alloc(1025)), {}, 1009, "ERR_PAYLOAD_TOO_LARGE"],
    [
      "more fragments than maxFragments",
      () => Buffer.concat([frame(1, Buffer.from("a"), { fin: false }), frame(0, Buffer.from("b"))]),
      { maxFragments: 1 },
      1008,
      "ERR_TOO_MANY_FRAGMENTS",
    ],
  ];
  for (const [name, bytes, options, status, code] of cases) {
    test(`${name}: ${status} ${code}, the status ws closes with, with a close frame`, async () => {
      const error = await wsError(bytes(), options);
      expect(classifySocketError(error)).toEqual({ kind: "protocol", status, code, closeFrame: true });
    });
  }

  test("a compressed message that does not inflate (zlib's error, with ws's status): 1007", async () => {
    const bomb = frame(1, Buffer.from([0xff, 0xfe, 0xfd, 0x00]));
    bomb[0] = (bomb[0] as number) | 0x40; // RSV1: compressed
    const deflate = new PerMessageDeflate({}, true);
    deflate.accept([{}]);
    const error = await wsError(bomb, { extensions: { "permessage-deflate": deflate } });
    expect(classifySocketError(error)).toEqual({
      kind: "protocol",
      status: 1007,
      code: "ERR_INVALID_DATA",
      closeFrame: true,
    });
  });

  test("a reset socket (code ECONNRESET) is a vanished peer; an unknown code is another error", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(classifySocketError(reset)).toEqual({ kind: "vanished" });
    expect(classifySocketError(Object.assign(new Error("x"), { code: "EMFILE" }))).toEqual({ kind: "other" });
  });
});

describe("classifySocketError: fixed texts", () => {
  test("Bun's reasons carry the status of the close frame Bun sent", () => {
    expect(classifySocketError(new Error("Received invalid close code"))).toMatchObject({ status: 1002 });
    expect(classifySocketError(new Error("Received too big control frame"))).toMatchObject({
      status: 1002,
      code: "ERR_PROTOCOL",
      closeFrame: true,
    });
    expect(classifySocketError(new Error("Received too big message"))).toMatchObject({ status: 1009 });
  });

  test("Deno's messages: a close frame only for an invalid close code", () => {
    expect(classifySocketError(new Error("Invalid close code"))).toMatchObject({
      status: 1002,
      closeFrame: true,
    });
    expect(classifySocketError(new Error("Invalid close frame"))).toMatchObject({
      status: 1002,
      closeFrame: false,
    });
    expect(classifySocketError(new Error("Unexpected EOF"))).toEqual({ kind: "vanished" });
  });

  test("text is matched exactly, not by pattern", () => {
    expect(classifySocketError(new Error("received too big control frame"))).toEqual({ kind: "other" });
    expect(classifySocketError(new Error("Invalid UTF-8 in a file name"))).toEqual({ kind: "other" });
  });
});
