/**
 * A fake runtime for the in-process unit layer (test/unit) only: an adapter,
 * a transport and a wire that feed the real core engine the events a runtime
 * would, so the core's behaviour can be checked in milliseconds. It stands in
 * for a runtime here and nowhere else: the shared suites (test/suite.ts and
 * the others, run by test/{node,bun,deno,deno-node}.test.ts) keep proving,
 * with real servers and real clients, that every runtime does the same.
 *
 * Two wires cover the core's two fan-out paths: "copy" has no native groups
 * (like Node and Deno: the core prepares a group message once and sends it to
 * each member), "native" has fake native groups (like Bun: one publish per message).
 */
import type {
  Adapter,
  Engine,
  NativeGroups,
  Prepared,
  RouteDecision,
  Transport,
  Wire,
} from "../../src/core/adapter.ts";
import type { Connection } from "../../src/core/connection.ts";
import { type HeaderObject, LazyUpgradeRequest } from "../../src/core/headers.ts";
import type { ServerOptions } from "../../src/core/options.ts";
import { BaseServer } from "../../src/core/server.ts";

/** Which fan-out path the fake binding offers the core. */
export type WireKind = "copy" | "native";

/** Both kinds, for tests that must hold on each fan-out path. */
export const WIRES: readonly WireKind[] = ["copy", "native"];

/** A copy of a message, as a runtime's `send` makes one: later changes to the caller's buffer do not show. */
function copyOf(message: string | Uint8Array): string | Uint8Array {
  return typeof message === "string" ? message : message.slice();
}

/** One accepted socket: records what the core sends it and how it was closed. */
export class FakeTransport implements Transport {
  readyState = 1;
  /** Set by a test to simulate a slow reader. */
  bufferedAmount = 0;
  /** Every message the core sent, as the wire prepared it (or as a native publish delivered it). */
  readonly sent: Prepared[] = [];
  /** The close the core started, if any. */
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;
  pings = 0;
  /** Whether the peer answers a close (a well-behaved client does; a stuck one does not). */
  echoClose = true;
  /** How the socket reports its end to the engine; set by the fake adapter once it is open. */
  onEnd: ((code: number, reason: string) => void) | undefined;

  send(message: Prepared): void {
    if (this.readyState !== 1) throw new Error("fake socket is not open");
    this.sent.push(message);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
    if (this.echoClose) queueMicrotask(() => this.onEnd?.(code, reason));
  }

  /** Like `ws` and Bun: the socket is gone, and reported closed with 1006. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.readyState = 3;
    queueMicrotask(() => this.onEnd?.(1006, ""));
  }

  ping(): void {
    this.pings++;
  }

  /** The messages sent, text as strings and binary as byte arrays. */
  get messages(): Array<string | Uint8Array> {
    return this.sent as Array<string | Uint8Array>;
  }
}

/** Bun-like native topics: membership per group, and a record of every publish. */
export class FakeNativeGroups implements NativeGroups {
  readonly #members = new Map<string, Set<Transport>>();
  readonly publishes: Array<{ group: string; message: string | Uint8Array; except?: Transport }> = [];

  join(transport: Transport, group: string): void {
    const members = this.#members.get(group) ?? new Set<Transport>();
    this.#members.set(group, members);
    members.add(transport);
  }

  leave(transport: Transport, group: string): void {
    this.#members.get(group)?.delete(transport);
  }

  /** Delivers a copy to every open member but `except`, as Bun's `server.publish` does. */
  publish(group: string, message: string | Uint8Array, except?: Transport): void {
    this.publishes.push({ group, message: copyOf(message), except });
    for (const member of this.#members.get(group) ?? []) {
      if (member !== except && member.readyState === 1) (member as FakeTransport).sent.push(copyOf(message));
    }
  }

  /** Open members of `group` (a closed socket has left its native groups by itself). */
  members(group: string): Transport[] {
    return [...(this.#members.get(group) ?? [])].filter((member) => member.readyState === 1);
  }
}

/** The fake binding's wire: `prepare` copies bytes (as Node frames them) and counts its calls. */
export class FakeWire implements Wire {
  readonly prepared: Array<string | Uint8Array> = [];
  readonly groups: FakeNativeGroups | undefined;

  constructor(kind: WireKind) {
    this.groups = kind === "native" ? new FakeNativeGroups() : undefined;
  }

  prepare(message: string | Uint8Array): Prepared {
    this.prepared.push(message);
    return copyOf(message);
  }
}

/** An adapter that binds no port: it attaches its wire and hands out the engine. */
export class FakeAdapter implements Adapter {
  readonly runtime = "node" as const;
  readonly wire: FakeWire;
  engine: Engine | undefined;
  stopped = false;

  constructor(kind: WireKind) {
    this.wire = new FakeWire(kind);
  }

  listen(engine: Engine): Promise<{ port: number; stop: () => Promise<void> }> {
    engine.attach(this.wire);
    this.engine = engine;
    return Promise.resolve({
      port: 1,
      stop: () => {
        this.stopped = true;
        return Promise.resolve();
      },
    });
  }
}

/** A connection opened through the fake adapter, with its socket. */
export interface FakePeer {
  readonly conn: Connection;
  readonly transport: FakeTransport;
}

/** The real `BaseServer` on the fake binding, with helpers that play the runtime's part (typed like `Server`). */
export class FakeServer<Data = unknown, Format = "text"> extends BaseServer<Data, Format> {
  readonly adapter: FakeAdapter;
  readonly #transports = new WeakMap<Connection, FakeTransport>();

  constructor(options?: ServerOptions<Data, Format>, kind: WireKind = "copy") {
    super(options);
    this.adapter = new FakeAdapter(kind);
  }

  /** A server already listening on the fake binding. */
  static async start<Data = unknown, Format = "text">(
    options?: ServerOptions<Data, Format>,
    kind: WireKind = "copy",
  ): Promise<FakeServer<Data, Format>> {
    const server = new FakeServer<Data, Format>(options, kind);
    await server.listen();
    return server;
  }

  protected override loadAdapter(): Promise<Adapter> {
    return Promise.resolve(this.adapter);
  }

  get engine(): Engine {
    if (!this.adapter.engine) throw new Error("FakeServer: call listen() before connecting");
    return this.adapter.engine;
  }

  /** The fake native groups (wire "native" only). */
  get native(): FakeNativeGroups {
    const groups = this.adapter.wire.groups;
    if (!groups) throw new Error("FakeServer: this server's wire has no native groups");
    return groups;
  }

  /** Routes a request as an adapter would; `headers` add to (or, with `undefined`, remove) an upgrade's. */
  route(url = "/", headers: HeaderObject = {}): RouteDecision | Promise<RouteDecision> {
    const all = { host: "127.0.0.1:1", upgrade: "websocket", connection: "Upgrade", ...headers };
    return this.engine.route(new LazyUpgradeRequest("GET", url, all, "127.0.0.1"));
  }

  /** Routes and opens a connection as an adapter would; throws naming the status of a refusal. */
  async connect(url = "/", headers: HeaderObject = {}): Promise<FakePeer> {
    const all = { host: "127.0.0.1:1", upgrade: "websocket", connection: "Upgrade", ...headers };
    const request = new LazyUpgradeRequest("GET", url, all, "127.0.0.1");
    const decision = await this.engine.route(request);
    if (!decision.upgrade) throw new Error(`upgrade refused: ${decision.status} ${decision.body}`);
    const transport = new FakeTransport();
    const conn = this.engine.open(transport, request, decision);
    transport.onEnd = (code, reason) => this.peerClose(conn, code, reason);
    this.#transports.set(conn, transport);
    return { conn, transport };
  }

  /** The fake socket behind `conn`. */
  transportOf(conn: Connection): FakeTransport {
    const transport = this.#transports.get(conn);
    if (!transport) throw new Error(`connection ${conn.id} was not opened by this FakeServer`);
    return transport;
  }

  /** A message from the peer. */
  receive(conn: Connection, data: string | Uint8Array): void {
    this.engine.message(conn, data);
  }

  /** The peer closed (or answered our close) with `code`; the socket is then closed. */
  peerClose(conn: Connection, code = 1000, reason = ""): void {
    this.transportOf(conn).readyState = 3;
    this.engine.closed(conn, code, reason);
  }
}

/**
 * Runs queued microtasks until `done()` holds, or fails naming `what`: the core's
 * deferred work (onDisconnect, held messages) runs on microtasks, not timers.
 */
export async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (done()) return;
    await Promise.resolve();
  }
  throw new Error(`expected ${what}, still not so after 100 microtasks`);
}

/** Runs every microtask now queued, and those they queue (to check that something did not happen). */
export async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 100; i++) await Promise.resolve();
}

/** The text messages a transport received, in order. */
export function texts(transport: FakeTransport): string[] {
  return transport.messages.filter((message): message is string => typeof message === "string");
}
