/**
 * The seam between a {@link ChatRoom} and where its messages live. Without a
 * broker the room numbers and keeps its messages itself (one process, nothing
 * to install). With one (e.g. `polysocket/redis`), every process serving the
 * room publishes through it and delivers what it hands back, so all of them
 * see one stream, in one order, with one set of sequence numbers.
 *
 * Runtime-neutral: nothing here imports a client library.
 */

/** One message of a room's stream. */
export interface BrokerEntry {
  /** Its sequence number in the room: 1, 2, 3… (consecutive unless the store trimmed some). */
  readonly seq: number;
  /** The text, as broadcast. */
  readonly text: string;
  /** The member (connection id) this message announces as joined, if it is a join notice. */
  readonly join?: string;
  /** The member this message announces as gone, if it is a leave notice. */
  readonly leave?: string;
}

/** What a broker tells the room it serves. */
export interface BrokerListener {
  /** The next message of the stream: once each, in order, own publications included. */
  message(entry: BrokerEntry): void;
  /** Members whose process vanished without saying goodbye: the room announces their leaves. */
  orphaned(members: readonly string[]): void;
  /**
   * The store lost the room (e.g. Redis came back empty): numbering starts over
   * at 1 under a new `epoch`, and nobody is online there any more.
   */
  restarted(epoch: string): void;
  /**
   * This process was taken for dead (it was silent longer than the broker
   * allows, e.g. paused) and its members were announced gone: the room announces them again.
   */
  revived(): void;
}

/** Who a join or leave notice is about. */
export interface PresenceChange {
  /** The member (connection id) that joined. */
  readonly join?: string;
  /** The member that left. */
  readonly leave?: string;
}

/**
 * What a room needs from a shared message store. A broker serves one room and
 * is attached to one {@link ChatRoom}; open it (connect, read the epoch and the
 * recent history) before creating the room.
 */
export interface RoomBroker {
  /** Id of the room's numbering, the same in every process; a new one means the numbers started over. */
  readonly epoch: string;
  /** The latest messages when the broker opened, oldest first (what newcomers get replayed). */
  readonly history: readonly BrokerEntry[];
  /** Sequence number of the latest message when the broker opened (0 before the first). */
  readonly lastSeq: number;
  /** Members online in every process when the broker opened, as of {@link lastSeq}. */
  readonly online: readonly string[];
  /** Starts telling `listener` every message after {@link lastSeq}, and what else happens. Called once, by the room. */
  subscribe(listener: BrokerListener): void;
  /**
   * Stores `text` as the room's next message; resolves with its sequence
   * number, rejects if it was not stored. With `change`, the message is the
   * join or leave notice of that member; a leave of a member that is not
   * online (announced already) is not stored and resolves with 0.
   */
  publish(text: string, change?: PresenceChange): Promise<number>;
  /** Stops delivering and releases the connections. */
  close(): Promise<void>;
}
