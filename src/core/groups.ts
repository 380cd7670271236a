/**
 * Groups: the one fan-out mechanism of a server. Topics, `broadcast` (the group
 * of everyone) and rooms' audiences are all groups. A message to a group is
 * prepared once (framed on Node) and handed to each member under the same
 * per-connection rules as `send`; where the runtime has native groups (Bun),
 * membership is mirrored into them and a message goes out in one native publish.
 */

import { type Connection, control, type GroupHost } from "./connection.ts";
import { type NativeGroups, ReadyState, type Wire } from "./types.ts";

/** The key of the group every connection of a server is in. */
export const EVERYONE = "*";

/** Connections to leave out of a group message. */
export type Except = Connection | ReadonlySet<Connection> | undefined;

/** The members of one group, as the fan-out reads them. */
interface Members {
  readonly size: number;
  has(conn: Connection): boolean;
  [Symbol.iterator](): Iterator<Connection>;
}

/** Every group of one server, by key. */
export class Groups implements GroupHost {
  readonly #members = new Map<string, Set<Connection>>();
  readonly #everyone: Members;
  #wire: Wire = { prepare: (message) => message };

  /** `everyone`: the server's open connections (the engine keeps them). */
  constructor(everyone: ReadonlyMap<string, Connection>) {
    this.#everyone = {
      get size() {
        return everyone.size;
      },
      has: (conn) => everyone.get(conn.id) === conn,
      [Symbol.iterator]: () => everyone.values(),
    };
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

  join(conn: Connection, key: string): void {
    const members = this.#members.get(key) ?? new Set<Connection>();
    if (members.size === 0) this.#members.set(key, members);
    members.add(conn);
    this.#wire.groups?.join(control.transport(conn), key);
  }

  leave(conn: Connection, key: string): void {
    const members = this.#members.get(key);
    if (!members?.delete(conn)) return;
    if (members.size === 0) this.#members.delete(key);
    const transport = control.transport(conn);
    // A closed socket has left its native groups by itself.
    if (transport.readyState === ReadyState.OPEN) this.#wire.groups?.leave(transport, key);
  }

  /** How many connections are in group `key`. */
  count(key: string): number {
    return this.#members.get(key)?.size ?? 0;
  }

  /** Sends `message` to every member of `key` but `except`; returns how many it was handed to. */
  publish(key: string, message: string | Uint8Array, except?: Except): number {
    const members = this.#members.get(key);
    return members ? this.#fanOut(key, members, message, except) : 0;
  }

  /** Sends `message` to every open connection but `except`. */
  publishAll(message: string | Uint8Array, except?: Except): number {
    return this.#fanOut(EVERYONE, this.#everyone, message, except);
  }

  #fanOut(key: string, members: Members, message: string | Uint8Array, except: Except): number {
    const single = except === undefined || isConnection(except);
    const native = this.#wire.groups;
    if (native && single) return nativePublish(native, key, members, message, except);
    const prepared = this.#wire.prepare(message);
    let handed = 0;
    for (const conn of members) {
      if (single ? conn === except : (except as ReadonlySet<Connection>).has(conn)) continue;
      if (control.sendPrepared(conn, message, prepared)) handed++;
    }
    return handed;
  }
}

/** One native publish; the count is the members it went to (the runtime applies each one's limit). */
function nativePublish(
  native: NativeGroups,
  key: string,
  members: Members,
  message: string | Uint8Array,
  except: Connection | undefined,
): number {
  const skip = except !== undefined && members.has(except);
  native.publish(key, message, skip ? control.transport(except) : undefined);
  return members.size - (skip ? 1 : 0);
}

function isConnection(except: Connection | ReadonlySet<Connection>): except is Connection {
  return !(except instanceof Set);
}
