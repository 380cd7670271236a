/**
 * A room's `schema`: every member's publish is checked by a Standard Schema
 * before `onPublish` sees it; a refusal names the failing path and the
 * schema's message, and the publish is not stored.
 */
import type { Connection } from "../connection.ts";
import { outcome } from "../json-messages.ts";
import type { StandardSchemaV1 } from "../standard-schema.ts";
import type { PublishHook } from "./publishes.ts";
import type { Room } from "./room.ts";
import type { RoomData } from "./store.ts";

/** `hook`, behind `schema`: what the schema refuses is thrown (the sender is told why), what it passes goes on as its output. */
export function checkedBy(schema: StandardSchemaV1, hook: PublishHook): PublishHook {
  return (conn: Connection, room: Room, data: RoomData) => {
    const result = schema["~standard"].validate(data);
    if (result instanceof Promise) return result.then((done) => hook(conn, room, passed(outcome(done))));
    return hook(conn, room, passed(outcome(result)));
  };
}

function passed(checked: { value: unknown } | { reason: string }): RoomData {
  if ("reason" in checked) throw new Error(`invalid message: ${checked.reason}`);
  return checked.value as RoomData;
}
