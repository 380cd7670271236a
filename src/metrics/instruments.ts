/**
 * The instruments, defined once for both exporters: the Prometheus name, the
 * OpenTelemetry name and unit, the help text, the kind, the label, and how each
 * reads its value from a {@link Tally}.
 */
import type { Tally } from "./tally.ts";

/** How an instrument's value changes: only up (counter), or both ways (gauge). */
export type InstrumentKind = "counter" | "gauge";

/** One counted instrument; its value is read from a tally when scraped or collected. */
export interface CountedInstrument {
  /** Prometheus name (counters end in `_total`). */
  readonly prometheus: string;
  /** OpenTelemetry instrument name. */
  readonly otel: string;
  /** OpenTelemetry unit (UCUM). */
  readonly unit: string;
  readonly help: string;
  readonly kind: InstrumentKind;
  /** The label (attribute) that splits it, if any. */
  readonly label?: string;
  /** The value, or the values by label value. */
  read(tally: Tally): number | ReadonlyMap<string | number, number>;
}

/** One histogram of seconds, recorded as room stores report durations. */
export interface DurationInstrument {
  readonly prometheus: string;
  readonly otel: string;
  readonly help: string;
  /** Upper bounds in seconds. */
  readonly buckets: readonly number[];
}

/** Every counter and gauge, in exposition order. */
export const COUNTED: readonly CountedInstrument[] = [
  {
    prometheus: "polysocket_connections",
    otel: "polysocket.connections",
    unit: "{connection}",
    help: "Open WebSocket connections.",
    kind: "gauge",
    read: (t) => t.connectionsOpen,
  },
  {
    prometheus: "polysocket_connections_opened_total",
    otel: "polysocket.connections.opened",
    unit: "{connection}",
    help: "Connections opened (handshake done, refusals not included).",
    kind: "counter",
    read: (t) => t.connectionsOpened,
  },
  {
    prometheus: "polysocket_connections_closed_total",
    otel: "polysocket.connections.closed",
    unit: "{connection}",
    help: "Connections ended, by the close code onDisconnect reports (1006: dropped or vanished).",
    kind: "counter",
    label: "code",
    read: (t) => t.connectionsClosed,
  },
  {
    prometheus: "polysocket_messages_received_total",
    otel: "polysocket.messages.received",
    unit: "{message}",
    help: "Messages received from clients (before validate and the limits).",
    kind: "counter",
    read: (t) => t.messagesReceived,
  },
  {
    prometheus: "polysocket_received_bytes_total",
    otel: "polysocket.received.bytes",
    unit: "By",
    help: "Payload bytes received (UTF-8 for text; the message's own size, after any decompression).",
    kind: "counter",
    read: (t) => t.bytesReceived,
  },
  {
    prometheus: "polysocket_messages_sent_total",
    otel: "polysocket.messages.sent",
    unit: "{message}",
    help: "Messages handed to connections: one per send, one per recipient of a publish or broadcast.",
    kind: "counter",
    read: (t) => t.messagesSent,
  },
  {
    prometheus: "polysocket_sent_bytes_total",
    otel: "polysocket.sent.bytes",
    unit: "By",
    help: "Payload bytes handed to connections (UTF-8 for text, before compression).",
    kind: "counter",
    read: (t) => t.bytesSent,
  },
  {
    prometheus: "polysocket_publishes_total",
    otel: "polysocket.publishes",
    unit: "{publish}",
    help: "Publishes: publish, broadcast and room fan-outs (each counts once, whatever its recipients).",
    kind: "counter",
    read: (t) => t.publishes,
  },
  {
    prometheus: "polysocket_refusals_total",
    otel: "polysocket.refusals",
    unit: "{refusal}",
    help: "Upgrades and messages refused, by reason.",
    kind: "counter",
    label: "reason",
    read: (t) => t.refusals,
  },
  {
    prometheus: "polysocket_backpressure_drops_total",
    otel: "polysocket.backpressure.drops",
    unit: "{message}",
    help: 'Messages not sent to a connection over its buffer limit (policy "drop").',
    kind: "counter",
    read: (t) => t.backpressureDrops,
  },
  {
    prometheus: "polysocket_backpressure_closes_total",
    otel: "polysocket.backpressure.closes",
    unit: "{connection}",
    help: 'Connections closed with 1013 for a buffer over the limit (policy "close").',
    kind: "counter",
    read: (t) => t.backpressureCloses,
  },
  {
    prometheus: "polysocket_heartbeat_timeouts_total",
    otel: "polysocket.heartbeat.timeouts",
    unit: "{connection}",
    help: "Connections dropped for a missing pong.",
    kind: "counter",
    read: (t) => t.heartbeatTimeouts,
  },
  {
    prometheus: "polysocket_topics",
    otel: "polysocket.topics",
    unit: "{topic}",
    help: "Topics with at least one subscriber.",
    kind: "gauge",
    read: (t) => t.topics,
  },
  {
    prometheus: "polysocket_topic_subscriptions",
    otel: "polysocket.topic.subscriptions",
    unit: "{subscription}",
    help: "Subscriptions to topics (a connection in three topics counts three).",
    kind: "gauge",
    read: (t) => t.subscriptions,
  },
  {
    prometheus: "polysocket_rooms",
    otel: "polysocket.rooms",
    unit: "{room}",
    help: "Rooms a room store holds open.",
    kind: "gauge",
    read: (t) => t.rooms,
  },
  {
    prometheus: "polysocket_room_members",
    otel: "polysocket.room.members",
    unit: "{connection}",
    help: "Connections in rooms (a connection in two rooms counts two).",
    kind: "gauge",
    read: (t) => t.roomMembers,
  },
  {
    prometheus: "polysocket_store_reconnects_total",
    otel: "polysocket.store.reconnects",
    unit: "{reconnect}",
    help: "Times a room store (Redis) lost its connection and reconnected.",
    kind: "counter",
    read: (t) => t.storeReconnects,
  },
];

/** Bounds for store round trips: 0.5 ms to 2.5 s. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The store publish latency histogram. */
export const STORE_PUBLISH: DurationInstrument = {
  prometheus: "polysocket_store_publish_seconds",
  otel: "polysocket.store.publish.duration",
  help: "Time from a room store's publish to the store's acknowledgement (Redis XADD).",
  buckets: STORE_BUCKETS,
};

/** The store reader lag histogram. */
export const STORE_READ_LAG: DurationInstrument = {
  prometheus: "polysocket_store_read_lag_seconds",
  otel: "polysocket.store.read.lag",
  help: "Time from an entry's append to the store until this process's reader received it.",
  buckets: STORE_BUCKETS,
};
