/** What the runner asks of the load generator (bench/load.ts), and what it answers. */

/** One measurement, as the runner asks for it. */
export interface Job {
  scenario: "fanout" | "topics" | "room" | "echo" | "memory" | "connrate" | "large";
  url: string;
  /** fanout through Redis: the servers' URLs; clients connect to them in turn (`url` is the first). */
  urls?: string[];
  /** fanout: clients in the room; echo: clients ping-ponging; memory: idle connections; connrate: concurrent dialers; large: clients echoing. */
  clients: number;
  /** topics: the topics the clients are spread over (client i subscribes to topic i mod topics). */
  topics?: number;
  /** topics: how many topics (in turn) the server publishes each message to. */
  fan?: number;
  /** memory: ask the server for connections it subscribes on the runner's command (`?subs`). */
  subs?: boolean;
  /** fanout: messages in flight (sent, not yet seen by the first client; with `urls`, by the slowest server's). */
  window: number;
  /** Message size in bytes (room: of the data in each publish frame). */
  size: number;
  /** fanout and topics: JSON text messages (what compression is measured with), not padding. */
  json?: boolean;
  warmupMs: number;
  /**
   * Paired runs: the measuring window starts at this wall-clock time (ms since
   * the epoch) instead of `warmupMs` after the load started, so two generators
   * whose set-up takes different times (a room's join storm) measure the same window.
   */
  startAt?: number;
  measureMs: number;
}

/** What the generator prints when done. */
export interface LoadResult {
  /** Events per second in the measuring window (deliveries, round trips, connections, bytes). */
  rate: number;
  /** Generator CPU time over wall time in the window: 1 means one core fully busy. */
  cpu: number;
  /** fanout with `urls`: clients that had not received every message 5 s after sending stopped. */
  incomplete?: number;
  /** room: ms from the first connection until every client was in the room and had its join's frames. */
  setupMs?: number;
}
