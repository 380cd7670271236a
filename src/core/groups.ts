/**
 * Groups: the one fan-out mechanism of a server. Topics, `broadcast` (the group
 * of everyone) and rooms' audiences are all groups. A message to a group is
 * prepared once (framed on Node) and handed to each member under the same
 * per-connection rules as `send`. Where the runtime has native groups (Bun),
 * membership lives there and here only as a count (a JS set of members on top
 * of Bun's own cost ~9x its memory per subscription), and a message goes out in
 * one native publish.
 */
import { type Connection, control, type GroupHost, isTopicKey } from "./connection.ts";
import { messageBytes, type Observer } from "./observer.ts";
import { type NativeGroups, ReadyState, type Wire } from "./types.ts";

/** The key of the group every connection of a server is in. */
export const EVERYONE = "*";

/** Connections to leave out of a group message. */
export type Except = Connection | ReadonlySet<Connection> | undefined;

/** One group: its key (shared by every member's record of it), and its members or, natively, their count. */
interface Group {
  readonly key: string;
  readonly members: Set<Connection> | undefined;
  size: number;
}

/** Every group of one server, by key. */
export class Groups implements GroupHost {
  readonly #groups = new Map<string, Group>();
  readonly #everyone: ReadonlyMap<string, Connection>;
  #wire: Wire = { prepare: (message) => message };
  /** The server's metrics observer: publishes, and topics' subscriptions. */
  observer: Observer | undefined;

  /** `everyone`: the server's open connections (the engine keeps them). */
  constructor(everyone: ReadonlyMap<string, Connection>) {
    this.#everyone = everyone;
  }

  /** The binding's way to send; set before any connection exists. */
  set wire(wire: Wire) {
    this.#wire = wire;
  }

  /** Makes `message` ready for this binding's transports. */
  prepare(message: string | Uint8Array): unknown {
    return this.#wire.prepare(message);
  }

  /** A new connection joins the group of everyone (natively, where the runtime has groups). */
  opened(conn: Connection): void {
    this.#wire.groups?.join(control.transport(conn), EVERYONE);
  }

  /** Adds `conn` (not a member yet) to group `key`; returns the key as the group keeps it. */
  join(conn: Connection, key: string): string {
    const native = this.#wire.groups;
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { key, members: native ? undefined : new Set(), size: 0 };
      this.#groups.set(key, group);
    }
    group.members?.add(conn);
    group.size++;
    native?.join(control.transport(conn), group.key);
    if (this.observer && isTopicKey(key)) this.observer.subscribed(group.size === 1);
    return group.key;
  }

  /** Removes `conn` (a member) from group `key`. */
  leave(conn: Connection, key: string): void {
    const group = this.#groups.get(key);
    if (group === undefined) return;
    group.members?.delete(conn);
    if (--group.size === 0) this.#groups.delete(key);
    if (this.observer && isTopicKey(key)) this.observer.unsubscribed(group.size === 0);
    const transport = control.transport(conn);
    // A closed socket has left its native groups by itself.
    if (transport.readyState === ReadyState.OPEN) this.#wire.groups?.leave(transport, key);
  }

  /** How many connections are in group `key`. */
  count(key: string): number {
    return this.#groups.get(key)?.size ?? 0;
  }

  /** Sends `message` to every member of `key` but `except`; returns how many it was handed to. */
  publish(key: string, message: string | Uint8Array, except?: Except): number {
    const group = this.#groups.get(key);
    if (group === undefined) return this.#published(0, message);
    const native = this.#wire.groups;
    if (native) {
      const inGroup = (conn: Connection) => control.inGroup(conn, key);
      return this.#published(nativePublish(native, key, group.size, inGroup, message, except), message);
    }
    return this.#published(this.#sendEach(group.members as Set<Connection>, message, except), message);
  }

  /** Sends `message` to every open connection but `except`. */
  publishAll(message: string | Uint8Array, except?: Except): number {
    const everyone = this.#everyone;
    const native = this.#wire.groups;
    if (native) {
      const inGroup = (conn: Connection) => everyone.get(conn.id) === conn;
      const handed = nativePublish(native, EVERYONE, everyone.size, inGroup, message, except);
      return this.#published(handed, message);
    }
    return this.#published(this.#sendEach(everyone.values(), message, except), message);
  }

  /** Reports one publish (once, whatever its size) and returns its deliveries. */
  #published(deliveries: number, message: string | Uint8Array): number {
    this.observer?.published(deliveries, messageBytes(message));
    return deliveries;
  }

  /** The message prepared once, then handed to each member under `send`'s rules. */
  #sendEach(members: Iterable<Connection>, message: string | Uint8Array, except: Except): number {
    const prepared = this.#wire.prepare(message);
    const several = except instanceof Set ? except : undefined;
    let handed = 0;
    for (const conn of members) {
      if (conn === except || several?.has(conn)) continue;
      if (control.sendPrepared(conn, message, prepared)) handed++;
    }
    return handed;
  }
}

/**
 * One native publish; the count is the members it went to (the runtime applies
 * each one's limit). One excepted member is left out by publishing from its
 * socket; several leave the native group for the publish and join again.
 */
function nativePublish(
  native: NativeGroups,
  key: string,
  size: number,
  inGroup: (conn: Connection) => boolean,
  message: string | Uint8Array,
  except: Except,
): number {
  if (except === undefined || (!(except instanceof Set) && !inGroup(except as Connection))) {
    native.publish(key, message);
    return size;
  }
  const skipped = [...asSet(except)].filter(inGroup).map((conn) => control.transport(conn));
  if (skipped.length === 1) native.publish(key, message, skipped[0]);
  else {
    for (const transport of skipped) native.leave(transport, key);
    native.publish(key, message);
    for (const transport of skipped) native.join(transport, key);
  }
  return size - skipped.length;
}

function asSet(except: Connection | ReadonlySet<Connection>): ReadonlySet<Connection> {
  return except instanceof Set ? except : new Set([except as Connection]);
}
