/**
 * The engine: every behaviour a server has, written once. Adapters feed it
 * runtime events; it keeps the connection table, orders hooks, applies the
 * limits and routes requests.
 */
import type { Engine, EngineLimits } from "./adapter.ts";
import { type Connection, type ConnectionHost, control } from "./connection.ts";
import { DrainWatch } from "./drain.ts";
import { policyError, WebSocketError } from "./errors.ts";
import { Groups } from "./groups.ts";
import { Heartbeat } from "./heartbeat.ts";
import { callHook, type ErrorSink, errorSink } from "./hooks.ts";
import { answerRequest, type PlainAnswer } from "./http.ts";
import { randomId } from "./id.ts";
import { IdleWatch } from "./idle.ts";
import { type Deliver, InboundPolicy } from "./inbound.ts";
import type { Observer, RefusalReason } from "./observer.ts";
import { messageBytes } from "./observer.ts";
import type { CloseInfo, ResolvedOptions } from "./options.ts";
import { classifySocketError } from "./socket-errors.ts";
import type { IncomingRequest, RouteDecision, Transport, UpgradeRequest, Wire } from "./types.ts";
import { lateRefusal, pathOf, recheck, routeRequest, type ServerLoad } from "./upgrade-policy.ts";

/** How long a connection closed for backpressure may take before it is dropped. */
const BACKPRESSURE_GRACE_MS = 1000;

/** The runtime-neutral server state machine behind every adapter. */
export class ServerEngine implements Engine {
  readonly limits: EngineLimits;
  /** Open connections by id: the live view users read. */
  readonly connections: Map<string, Connection> = new Map();
  /** Topics, everyone and rooms' audiences: every fan-out of this server. */
  readonly groups: Groups = new Groups(this.connections);
  /** Set once the server stops accepting. */
  shuttingDown = false;
  readonly #options: ResolvedOptions;
  readonly #report: ErrorSink;
  readonly #inbound: InboundPolicy;
  readonly #host: ConnectionHost;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #idle: IdleWatch | undefined;
  readonly #drain: DrainWatch;
  readonly #observer: Observer | undefined;
  /** Events held back while a connection's async `onConnect` runs. */
  readonly #held = new Map<Connection, Array<() => void>>();
  /** Connections the runtime ended for a protocol error without a close frame (Deno). */
  readonly #unannounced = new WeakSet<Connection>();
  #onSettled: (() => void) | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.limits = options;
    this.#report = errorSink(options.onError);
    this.#observer = options.metrics;
    this.groups.observer = options.metrics;
    this.#inbound = new InboundPolicy(options, this.#report);
    this.#drain = new DrainWatch((conn) => this.#hook("onDrain", options.onDrain, [conn], conn));
    const groups = this.groups;
    this.#host = {
      ...options.backpressure,
      prepare: (message) => groups.prepare(message),
      groups,
      overLimit: (conn) => this.#closeSlow(conn),
      congested: (conn) => this.#drain.add(conn),
      terminate: (conn) => this.drop(conn),
      observer: options.metrics,
    };
    if (options.heartbeat) {
      const lost = policyError("ERR_HEARTBEAT_TIMEOUT", 1006, "no pong within the heartbeat timeout");
      this.#heartbeat = new Heartbeat(
        options.heartbeat,
        () => this.connections.values(),
        (conn) => {
          this.#observer?.heartbeatTimedOut();
          control.drop(conn, lost);
        },
      );
    }
    if (options.idleTimeout > 0) {
      const idle = policyError("ERR_IDLE_TIMEOUT", 1000, "idle timeout");
      this.#idle = new IdleWatch(options.idleTimeout, (conn) =>
        control.closeFor(conn, 1000, "idle timeout", idle),
      );
    }
  }

  attach(wire: Wire): void {
    this.groups.wire = wire;
  }

  owns(url: string): boolean {
    return pathOf(url) === this.#options.path;
  }

  /** Starts the server-wide timers; called once the port is bound. */
  start(): void {
    this.#heartbeat?.start();
  }

  /** Stops every timer; called when the server is gone. */
  stop(): void {
    this.#heartbeat?.stop();
    this.#drain.stop();
  }

  route(request: IncomingRequest): RouteDecision | Promise<RouteDecision> {
    const decision = routeRequest(this.#options, this.#load(), request, this.#report);
    if (!(decision instanceof Promise)) return this.#decided(request, decision, false);
    // The server may have started shutting down or filled up while onUpgrade ran.
    return decision.then((decided) => {
      const checked = recheck(this.#options, this.#load(), decided);
      return this.#decided(request, checked, checked === decided);
    });
  }

  #load(): ServerLoad {
    return { shuttingDown: this.shuttingDown, openConnections: this.connections.size };
  }

  /**
   * An accepted request keeps only what its connection keeps (`keepHeaders`), copied
   * out of the runtime's request now: Deno refuses header reads once the upgrade is
   * answered, and on Bun the copy is smaller than the request's own headers.
   */
  #decided(request: IncomingRequest, decision: RouteDecision, byHook: boolean): RouteDecision {
    if (decision.upgrade) request.keepHeaders(this.#options.keepHeaders);
    if (this.#observer && request.upgrade && (!decision.upgrade || decision.close)) {
      const reason = byHook || decision.upgrade ? "rejected" : this.#policyRefusal(decision.status);
      if (reason) this.#observer.refused(reason);
    }
    return decision;
  }

  /**
   * Why the upgrade policy (not `onUpgrade`) refused an upgrade, from its status;
   * none for another path's 404 (Node's adapter answers those without routing).
   */
  #policyRefusal(status: number): RefusalReason | undefined {
    if (status === 404) return undefined;
    if (status === 403) return "origin";
    return this.shuttingDown ? "shutting_down" : "capacity";
  }

  respond(request: Request, route: UpgradeRequest, decision: PlainAnswer): Promise<Response> {
    // Upgrades to another path keep their 404; only plain requests reach onRequest.
    const handler = route.upgrade ? undefined : this.#options.onRequest;
    return answerRequest(handler, request, decision, this.#report);
  }

  open(transport: Transport, request: UpgradeRequest, accepted: RouteDecision): Connection {
    let id = randomId();
    while (this.connections.has(id)) id = randomId();
    const { data, protocol = "", close } = accepted.upgrade ? accepted : {};
    const conn = control.create(transport, request, { id, data, protocol, host: this.#host });
    if (close) return refused(conn, close);
    // Accepted, but the handshake finished after shutdown began or the server filled up
    // (on Bun and Deno the socket opens after routing): close it before any hook sees it.
    const late = lateRefusal(this.#options, this.#load());
    if (late) {
      this.#observer?.refused(late.code === 1001 ? "shutting_down" : "capacity");
      return refused(conn, late);
    }
    this.connections.set(id, conn);
    this.#observer?.connectionOpened();
    this.groups.opened(conn);
    this.#idle?.watch(conn);
    const pending = this.#hook("onConnect", this.#options.onConnect, [conn], conn);
    if (pending) this.#holdUntil(conn, pending);
    return conn;
  }

  message(conn: Connection, data: string | Uint8Array): void {
    if (conn.state === "closed") return; // refused at the upgrade: no hook sees it
    this.#observer?.messageReceived(messageBytes(data));
    this.#heartbeat?.alive(conn);
    this.#idle?.seen(conn);
    if (typeof data !== "string" && !this.#options.onBinary) {
      this.#refuseBinary(conn);
      return;
    }
    if (this.#inbound.check(conn, data) !== "deliver") return;
    // Parsed messages are checked in order with the rest (the schema may be async).
    if (this.#inbound.parses) this.#whenReady(conn, () => this.#accept(conn, data));
    else this.#whenReady(conn, () => this.#deliver(conn, data));
  }

  /** JSON messages: parse, schema and `validate`; an async schema holds what comes after. */
  #accept(conn: Connection, data: string | Uint8Array): void {
    const pending = this.#inbound.accept(conn, data, this.#deliverValue);
    if (pending) this.#holdUntil(conn, pending);
  }

  /** Made once: what `accept` hands an accepted message (and its parsed value) to. */
  readonly #deliverValue: Deliver = (conn, frame, value) => {
    const { onMessage, onBinary } = this.#options;
    if (typeof frame === "string") this.#hook("onMessage", onMessage, [conn, value], conn);
    else this.#hook("onBinary", onBinary, [conn, frame], conn);
  };

  pong(conn: Connection): void {
    this.#heartbeat?.alive(conn);
  }

  heartbeatFailed(conn: Connection): void {
    this.#observer?.heartbeatTimedOut();
    this.drop(conn, policyError("ERR_HEARTBEAT_TIMEOUT", 1006, "no pong within the heartbeat timeout"));
  }

  /**
   * Drops a connection without a handshake and ends it now: Deno cannot drop a
   * socket, so the engine does not wait for the runtime to report the end.
   */
  drop(conn: Connection, error?: WebSocketError): void {
    control.drop(conn, error);
    this.closed(conn, 1006, "");
  }

  closed(conn: Connection, code: number, reason: string): void {
    // Bun reports the close synchronously inside `close()`; deferring on every
    // runtime means onDisconnect never runs re-entrantly inside user code.
    queueMicrotask(() => this.#end(conn, code, reason));
  }

  error(error: unknown, conn?: Connection): void {
    const text = error instanceof Error ? error.message : String(error);
    const failure = conn ? classifySocketError(error) : { kind: "other" as const };
    if (failure.kind === "vanished") return; // onDisconnect reports 1006
    if (failure.kind === "protocol" && conn) {
      const recorded = control.recordClose(
        conn,
        failure.status,
        text,
        policyError(failure.code, failure.status, text),
      );
      if (recorded && !failure.closeFrame) this.#unannounced.add(conn);
      return;
    }
    this.#report(new WebSocketError("ERR_SOCKET", `socket error: ${text}`, { cause: error }), conn);
  }

  /** Resolves once every connection is gone and every `onDisconnect` has been called. */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.#onSettled = resolve;
      this.#checkSettled();
    });
  }

  #end(conn: Connection, code: number, reason: string): void {
    if (!control.markEnded(conn)) return;
    this.connections.delete(conn.id);
    this.#idle?.forget(conn);
    this.#heartbeat?.alive(conn);
    const info = closeInfo(conn, code, reason, !this.#unannounced.has(conn));
    this.#observer?.connectionClosed(info.code);
    this.#whenReady(conn, () => {
      this.#hook("onDisconnect", this.#options.onDisconnect, [conn, info], conn);
      this.#checkSettled();
    });
  }

  #deliver(conn: Connection, data: string | Uint8Array): void {
    const { onMessage, onBinary } = this.#options;
    if (typeof data === "string") this.#hook("onMessage", onMessage, [conn, data], conn);
    else this.#hook("onBinary", onBinary, [conn, data], conn);
  }

  #refuseBinary(conn: Connection): void {
    this.#observer?.refused("binary_unsupported");
    const reason = "binary messages are not supported";
    control.closeFor(conn, 1003, reason, policyError("ERR_UNSUPPORTED_DATA", 1003, reason));
  }

  /** Policy "close": tell the client why, but do not wait long on a client that does not read. */
  #closeSlow(conn: Connection): void {
    const { limit } = this.#options.backpressure;
    this.#observer?.backpressureClosed();
    const reason = `over ${limit} bytes buffered`;
    control.closeFor(conn, 1013, reason, policyError("ERR_BACKPRESSURE", 1013, reason));
    setTimeout(() => this.drop(conn), BACKPRESSURE_GRACE_MS);
  }

  #hook<A extends unknown[]>(
    name: string,
    hook: ((...args: A) => unknown) | undefined,
    args: A,
    conn: Connection,
  ): Promise<void> | undefined {
    return callHook(name, hook, args, this.#report, conn);
  }

  #holdUntil(conn: Connection, ready: Promise<void>): void {
    const queue: Array<() => void> = [];
    this.#held.set(conn, queue);
    void ready.then(() => {
      this.#held.delete(conn);
      this.#runHeld(conn, queue);
      this.#checkSettled();
    });
  }

  /** Runs held events in order; one that holds the connection again (an async schema) takes the rest along. */
  #runHeld(conn: Connection, queue: Array<() => void>): void {
    for (let i = 0; i < queue.length; i++) {
      const again = this.#held.get(conn);
      if (again) {
        again.push(...queue.slice(i));
        return;
      }
      queue[i]!();
    }
  }

  #whenReady(conn: Connection, run: () => void): void {
    const queue = this.#held.get(conn);
    if (queue) queue.push(run);
    else run();
  }

  #checkSettled(): void {
    if (this.#onSettled && this.connections.size === 0 && this.#held.size === 0) {
      this.#onSettled();
      this.#onSettled = undefined;
    }
  }
}

/** A refusal a browser can see: closed at once, ended before any hook knows of it. */
function refused(conn: Connection, close: { code: number; reason: string }): Connection {
  control.closeFor(conn, close.code, close.reason);
  control.markEnded(conn);
  return conn;
}

/**
 * The code that ended the connection: ours (or the runtime's, for a protocol
 * error) if we closed first (runtimes report the peer's echo, or 1005 for a bare
 * one on Deno), 1006 if the peer vanished (Deno reports 0), else what the peer
 * sent. 1006 never travels in a close frame; `announced` false: the runtime
 * dropped the connection for a protocol error without one.
 */
function closeInfo(conn: Connection, code: number, reason: string, announced: boolean): CloseInfo {
  const sent = control.closeSent(conn);
  const ended = sent ?? (code >= 1000 ? { code, reason } : { code: 1006, reason: "" });
  return { ...ended, closeFrame: announced && ended.code !== 1006 };
}
