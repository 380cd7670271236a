/**
 * The `compression` option on every runtime, against the fixture's
 * "compression" scenario: negotiation, compressed messages both ways, a zip
 * bomb, backpressure and fan-out. Raw peers read the frames (RSV1 and the
 * deflated bytes) and `ws` clients check what a user's client sees.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { COMPRESSION_MAX_PAYLOAD, COMPRESSION_THRESHOLD } from "./fixtures/compression.ts";
import { TestClient } from "./harness/client.ts";
import { WAIT_MS, within } from "./harness/deadline.ts";
import { Fixture } from "./harness/fixture.ts";
import { frame, type RawFrame, RawPeer } from "./harness/raw.ts";
import { nativeVariant, type Runtime, type Variant } from "./harness/runtimes.ts";

const TEXT = 0x1;
const BINARY = 0x2;
const RSV1 = 0x40;
const OFFER = "permessage-deflate; client_max_window_bits";
const OFFER_HEADER = `Sec-WebSocket-Extensions: ${OFFER}\r\n`;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** A message that compresses well and is over the fixture's threshold. */
const JSON_TEXT = JSON.stringify(
  Array.from({ length: 40 }, (_, i) => ({ id: i, user: `user-${i % 5}`, text: "hello there" })),
);

/** A payload as a permessage-deflate sender makes it: raw DEFLATE to a sync flush, tail cut. */
const deflate = (data: Buffer): Buffer =>
  deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
/** The inverse of {@link deflate}; consecutive payloads of one context inflate together. */
const inflate = (...payloads: Buffer[]): Buffer =>
  inflateRawSync(Buffer.concat(payloads.flatMap((payload) => [payload, TAIL])), {
    finishFlush: constants.Z_SYNC_FLUSH,
  });

/** Variants whose WebSocket negotiates permessage-deflate: all but Deno's own (it declines). */
const negotiates = (variant: Variant): boolean => variant.name !== "deno";

export function compressionSuite(runtime: Runtime, variant: Variant = nativeVariant(runtime)): void {
  describe(`[${variant.name}] compression`, () => {
    const fixtures: Fixture[] = [];
    const peers: RawPeer[] = [];
    const clients: TestClient[] = [];
    const compressed = negotiates(variant);
    const start = async (env: Record<string, string> = {}) => {
      const fixture = await Fixture.start(runtime, "compression", { ...variant.env, ...env });
      fixtures.push(fixture);
      return fixture;
    };
    const peer = async (fixture: Fixture, offer = true) => {
      const raw = await RawPeer.open(fixture.port, "/ws", offer ? OFFER_HEADER : "");
      peers.push(raw);
      return raw;
    };
    const client = async (fixture: Fixture, perMessageDeflate: boolean | { threshold: number }) => {
      const opened = await TestClient.open(fixture.url, { perMessageDeflate });
      clients.push(opened);
      return opened;
    };

    afterAll(async () => {
      for (const raw of peers) raw.socket.destroy();
      for (const opened of clients) opened.socket.terminate();
      await Promise.all(fixtures.map((fixture) => fixture.process.stop("SIGKILL")));
    });

    test("negotiation: an offer is accepted without context takeover (declined on Deno); no offer, no extension", async () => {
      const fixture = await start();
      const accepted = await extensionsAnswer(fixture.port, OFFER);
      if (compressed) {
        expect(accepted, "the accepted extension").toMatch(/^permessage-deflate/);
        expect(accepted).toContain("server_no_context_takeover");
        expect(accepted).toContain("client_no_context_takeover");
      } else expect(accepted, "Deno's upgradeWebSocket declines the offer").toBeUndefined();
      expect(await extensionsAnswer(fixture.port, undefined), "no offer").toBeUndefined();
      const offering = await client(fixture, true);
      expect(offering.socket.extensions).toBe(compressed ? "permessage-deflate" : "");
      const plain = await client(fixture, false);
      expect(plain.socket.extensions).toBe("");
      for (const each of [offering, plain]) {
        each.send(JSON_TEXT);
        expect(await each.nextText()).toBe(JSON_TEXT);
      }
    });

    test("compressed text and binary both ways: RSV1 frames that inflate to the message; under the threshold, plain", async () => {
      const fixture = await start();
      const raw = await peer(fixture);
      const text = Buffer.from(JSON_TEXT);
      const bytes = Buffer.concat([text, Buffer.from([0, 1, 2, 255])]);
      const small = Buffer.from("x".repeat(COMPRESSION_THRESHOLD - 1));
      // Deno declined: a compressed frame would be a protocol error there, so its peer sends them plain.
      for (const [opcode, payload] of [
        [TEXT, text],
        [BINARY, bytes],
        [TEXT, small],
      ] as const) {
        raw.write(compressed ? frame(RSV1 | opcode, deflate(payload)) : frame(opcode, payload));
      }
      const [first, second, third] = (await frames(raw, 3)) as [RawFrame, RawFrame, RawFrame];
      expect([first, second, third].map((f) => [f.opcode, f.rsv1])).toEqual([
        [TEXT, compressed],
        [BINARY, compressed],
        [TEXT, false],
      ]);
      expect(compressed ? inflate(first.payload) : first.payload).toEqual(text);
      expect(compressed ? inflate(second.payload) : second.payload).toEqual(bytes);
      expect(third.payload).toEqual(small);
      if (compressed)
        expect(first.payload.length, "the wire carries the deflated bytes").toBeLessThan(text.length / 4);
      // A `ws` client that compresses everything: what a user's client sees.
      const user = await client(fixture, { threshold: 0 });
      user.send(JSON_TEXT);
      expect(await user.nextText()).toBe(JSON_TEXT);
      user.send(new Uint8Array(bytes));
      expect(await user.next()).toEqual(new Uint8Array(bytes));
    });

    test(`a zip bomb (1 MiB inflating past maxPayload ${COMPRESSION_MAX_PAYLOAD}) is closed with 1009`, async () => {
      const fixture = await start();
      const bomb = deflate(Buffer.alloc(1024 * 1024, "0"));
      expect(bomb.length, "the bomb is small on the wire").toBeLessThan(COMPRESSION_MAX_PAYLOAD / 8);
      const raw = await peer(fixture);
      raw.write(frame(RSV1 | TEXT, bomb));
      if (compressed) {
        expect(await raw.closeCode(), "the close frame's code").toBe(1009);
        const closed = await fixture.waitFor((e) => e.ev === "disconnect", "the bomb's disconnect");
        expect(closed.code).toBe(1009);
      } else {
        // Not negotiated on Deno: RSV1 is a protocol error, and the connection ends undelivered.
        await raw.ended;
        await fixture.waitFor((e) => e.ev === "disconnect", "the RSV1 frame's disconnect");
      }
      expect(
        fixture.events().filter((e) => e.ev === "message"),
        "nothing was delivered",
      ).toEqual([]);
    });

    test('backpressure "close" counts the bytes on the wire: a paused reader of noise is closed with 1013', async () => {
      const fixture = await start();
      const slow = await peer(fixture);
      slow.socket.pause(); // never reads again
      slow.write(frame(TEXT, Buffer.from("/noise 400 65536")));
      const closed = await fixture.waitFor((e) => e.ev === "disconnect", "the backpressure close");
      expect(closed).toMatchObject({ code: 1013, error: "ERR_BACKPRESSURE" });
      const noise = await fixture.waitFor((e) => e.ev === "noise");
      expect(noise.sent).toBeLessThan(400);
    });

    test('backpressure "drop" with compression: drops are counted, bufferedAmount reported, onDrain once read', async () => {
      const fixture = await start({ POLICY: "drop" });
      const slow = await peer(fixture);
      slow.socket.pause();
      slow.write(frame(TEXT, Buffer.from("/noise 400 65536")));
      const noise = await fixture.waitFor((e) => e.ev === "noise");
      expect(noise.dropped).toBeGreaterThan(0);
      expect((noise.sent as number) + (noise.dropped as number)).toBe(400);
      expect(noise.buffered, "bufferedAmount while the reader is paused").toBeGreaterThan(0);
      slow.socket.resume();
      const drain = await fixture.waitFor((e) => e.ev === "drain", "drain");
      expect(drain.buffered).toBe(0);
      expect(fixture.events().some((e) => e.ev === "disconnect")).toBe(false);
      // What arrived is whole: each frame inflates to one of the noise messages, in order.
      await frames(slow, noise.sent as number);
      const indexes = slow.frames.map((f) => Number(text(f).split(" ")[0]));
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    });

    test("compressible messages to a paused reader stay under the limit where compression was negotiated", async () => {
      const fixture = await start();
      const slow = await peer(fixture);
      slow.socket.pause();
      // 400 × 64 KiB of "x": 25 MiB raw, a few hundred bytes each once deflated.
      slow.write(frame(TEXT, Buffer.from("/flood 400 65536")));
      if (compressed) {
        const flood = await fixture.waitFor((e) => e.ev === "flood");
        expect(flood).toMatchObject({ sent: 400, dropped: 0 });
        expect(fixture.events().some((e) => e.ev === "disconnect")).toBe(false);
      } else {
        const closed = await fixture.waitFor((e) => e.ev === "disconnect", "the backpressure close");
        expect(closed).toMatchObject({ code: 1013, error: "ERR_BACKPRESSURE" });
      }
    });

    test("publish to a topic: subscribers that negotiated get the same deflated frame, the others a plain one", async () => {
      const fixture = await start();
      const [a, b, plain] = [await peer(fixture), await peer(fixture), await peer(fixture, false)];
      for (const each of [a, b, plain]) each.write(frame(TEXT, Buffer.from("/sub")));
      for (const each of [a, b, plain])
        expect(text((await frames(each, 1))[0] as RawFrame)).toBe("subscribed");
      const publisher = await client(fixture, true);
      publisher.send(`/pub ${JSON_TEXT}`);
      expect(await publisher.nextText()).toBe("published 3");
      const [got, alsoGot, plainGot] = [
        (await frames(a, 2))[1],
        (await frames(b, 2))[1],
        (await frames(plain, 2))[1],
      ] as [RawFrame, RawFrame, RawFrame];
      expect([got.rsv1, alsoGot.rsv1, plainGot.rsv1]).toEqual([compressed, compressed, false]);
      expect(compressed ? inflate(got.payload).toString() : text(got)).toBe(JSON_TEXT);
      expect(alsoGot.payload).toEqual(got.payload);
      expect(text(plainGot)).toBe(JSON_TEXT);
    });

    test("context takeover on both sides: the offer is accepted with context kept, and a repeat compresses to little", async () => {
      const fixture = await start({ TAKEOVER: "1" });
      const accepted = await extensionsAnswer(fixture.port, OFFER);
      if (!compressed) return expect(accepted, "Deno declines the offer").toBeUndefined();
      expect(accepted).toMatch(/^permessage-deflate/);
      expect(accepted).not.toContain("no_context_takeover");
      const raw = await peer(fixture);
      const message = Buffer.from(JSON_TEXT);
      raw.write(frame(TEXT, message));
      raw.write(frame(TEXT, message));
      const [first, second] = (await frames(raw, 2)) as [RawFrame, RawFrame];
      expect([first.rsv1, second.rsv1]).toEqual([true, true]);
      expect(inflate(first.payload, second.payload).toString(), "one deflate context").toBe(
        JSON_TEXT + JSON_TEXT,
      );
      expect(second.payload.length, "the repeat refers back to the first").toBeLessThan(
        first.payload.length / 4,
      );
      // A `ws` client that keeps its context too: several messages both ways.
      const user = await TestClient.open(fixture.url, { perMessageDeflate: { threshold: 0 } });
      clients.push(user);
      for (let i = 0; i < 3; i++) {
        user.send(`${i} ${JSON_TEXT}`);
        expect(await user.nextText()).toBe(`${i} ${JSON_TEXT}`);
      }
    });
  });
}

/** The `sec-websocket-extensions` a handshake offering `offer` gets back (undefined: none). */
function extensionsAnswer(port: number, offer: string | undefined): Promise<string | undefined> {
  const answered = new Promise<string | undefined>((resolve, reject) => {
    const headers: Record<string, string> = {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": randomBytes(16).toString("base64"),
    };
    if (offer) headers["sec-websocket-extensions"] = offer;
    const req = request({ host: "127.0.0.1", port, path: "/ws", headers });
    req.once("upgrade", (res, socket) => {
      socket.destroy();
      const answer = res.headers["sec-websocket-extensions"];
      resolve(Array.isArray(answer) ? answer.join(", ") : answer);
    });
    req.once("response", (res) => reject(new Error(`expected 101, got ${res.statusCode}`)));
    req.once("error", reject);
    req.end();
  });
  return within(answered, WAIT_MS, () => `expected the handshake's answer within ${WAIT_MS} ms`);
}

/** The first `count` frames the peer received, once they have arrived. */
async function frames(peer: RawPeer, count: number): Promise<RawFrame[]> {
  const arrived = new Promise<void>((resolve) => {
    // RawPeer parses on its own `data` listener, registered first: frames are counted before this runs.
    const check = () => {
      if (peer.frames.length < count) return;
      peer.socket.off("data", check);
      resolve();
    };
    peer.socket.on("data", check);
    check();
  });
  await within(arrived, WAIT_MS * 2, () => `expected ${count} frames; got ${peer.frames.length}`);
  return peer.frames.slice(0, count);
}

/** A frame's payload as text, inflated if it is compressed. */
function text(received: RawFrame): string {
  return (received.rsv1 ? inflate(received.payload) : received.payload).toString();
}
