/**
 * The counts behind both exporters: plain numbers a server's observer adds to
 * on its hot paths (an addition, no library call), read by Prometheus at each
 * scrape and by OpenTelemetry at each collection. Durations go straight to the
 * backend's histogram (they come from room stores, not from every message).
 */
import { type MetricsObserver, OBSERVER_METHODS, type RefusalReason } from "../core/observer.ts";

/** Where a tally hands the durations it is told of. */
export interface DurationSink {
  /** A store publish took `seconds`. */
  storePublished(seconds: number): void;
  /** A store reader got an entry `seconds` after it was appended. */
  storeRead(seconds: number): void;
}

/** Cumulative counts of one or more servers, since the tally was made. */
export class Tally implements Required<MetricsObserver> {
  connectionsOpened = 0;
  connectionsClosedTotal = 0;
  /** Close code → connections that ended with it. */
  readonly connectionsClosed: Map<number, number> = new Map();
  messagesReceived = 0;
  bytesReceived = 0;
  /** Messages handed to connections: one per `send`, one per delivery of a publish. */
  messagesSent = 0;
  bytesSent = 0;
  publishes = 0;
  /** Reason → refusals. */
  readonly refusals: Map<RefusalReason, number> = new Map();
  backpressureDrops = 0;
  backpressureCloses = 0;
  heartbeatTimeouts = 0;
  topics = 0;
  subscriptions = 0;
  rooms = 0;
  roomMembers = 0;
  storeReconnects = 0;
  readonly #durations: DurationSink;

  constructor(durations: DurationSink) {
    this.#durations = durations;
  }

  /** Connections open now. */
  get connectionsOpen(): number {
    return this.connectionsOpened - this.connectionsClosedTotal;
  }

  connectionOpened(): void {
    this.connectionsOpened++;
  }

  connectionClosed(code: number): void {
    this.connectionsClosedTotal++;
    this.connectionsClosed.set(code, (this.connectionsClosed.get(code) ?? 0) + 1);
  }

  messageReceived(bytes: number): void {
    this.messagesReceived++;
    this.bytesReceived += bytes;
  }

  messageSent(bytes: number): void {
    this.messagesSent++;
    this.bytesSent += bytes;
  }

  published(deliveries: number, bytes: number): void {
    this.publishes++;
    this.messagesSent += deliveries;
    this.bytesSent += deliveries * bytes;
  }

  refused(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  backpressureDropped(): void {
    this.backpressureDrops++;
  }

  backpressureClosed(): void {
    this.backpressureCloses++;
  }

  heartbeatTimedOut(): void {
    this.heartbeatTimeouts++;
  }

  subscribed(first: boolean): void {
    this.subscriptions++;
    if (first) this.topics++;
  }

  unsubscribed(last: boolean): void {
    this.subscriptions--;
    if (last) this.topics--;
  }

  roomOpened(): void {
    this.rooms++;
  }

  roomReleased(): void {
    this.rooms--;
  }

  roomJoined(): void {
    this.roomMembers++;
  }

  roomLeft(): void {
    this.roomMembers--;
  }

  storePublished(seconds: number): void {
    this.#durations.storePublished(seconds);
  }

  storeRead(seconds: number): void {
    this.#durations.storeRead(seconds);
  }

  storeReconnected(): void {
    this.storeReconnects++;
  }
}

/** The tally's methods as a plain observer object, for the `metrics` option (which takes no other properties). */
export function observerOf(tally: Tally): MetricsObserver {
  const observer: Record<string, unknown> = {};
  for (const name of OBSERVER_METHODS) observer[name] = tally[name].bind(tally);
  return Object.freeze(observer) as MetricsObserver;
}
