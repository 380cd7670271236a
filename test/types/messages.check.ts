/**
 * Type tests of typed messages and `conn.data`, checked by `npm run typecheck`
 * (tsc with the Node and the Bun configs, and `deno check`): what must compile
 * does, and each `@ts-expect-error` line is an error (tsc fails on an unused one).
 */
import * as v from "valibot";
import { z } from "zod";
import {
  type Connection,
  type JsonValue,
  type MessageOf,
  Server,
  type ServerOptions,
  type StandardSchemaV1,
} from "../../src/index.ts";

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(_proof: Equal<A, B>): void => undefined;

const Chat = z.object({ type: z.literal("chat"), text: z.string().max(500) });
const Move = v.object({ x: v.number(), y: v.pipe(v.number(), v.transform(String)) });

// Without `messages`, as before: strings, and `conn.data` unknown.
new Server({
  onMessage(conn, message) {
    same<typeof message, string>(true);
    same<typeof conn.data, unknown>(true);
  },
  validate: (_conn, message) => typeof message === "string" || "bytes",
});

// "json": the parsed value.
new Server({
  messages: "json",
  onMessage(conn, message) {
    same<typeof message, JsonValue>(true);
    conn.send(JSON.stringify(message));
  },
  validate: (_conn, message) => (message instanceof Uint8Array || message !== null ? true : "null"),
});

// A zod schema: its output type, inferred from the option.
new Server({
  messages: Chat,
  onMessage(_conn, message) {
    same<typeof message, { type: "chat"; text: string }>(true);
    // @ts-expect-error -- not in the schema
    message.nick;
  },
});

// A valibot schema with a transform: the output type, not the input type.
new Server({
  messages: Move,
  onMessage(_conn, message) {
    same<typeof message, { x: number; y: string }>(true);
  },
});

// `conn.data` through the server's type arguments, in every hook; onUpgrade must return that data.
interface Session {
  nick: string;
}
const typed = new Server<Session, typeof Chat>({
  messages: Chat,
  onUpgrade: (request) => ({ data: { nick: request.header("x-nick") ?? "anonymous" } }),
  onConnect(conn) {
    same<typeof conn.data, Session>(true);
  },
  onMessage(conn, message) {
    conn.send(`${conn.data.nick}: ${message.text}`);
  },
  onDisconnect(conn) {
    same<typeof conn.data.nick, string>(true);
  },
});
same<typeof typed.connections, ReadonlyMap<string, Connection<Session>>>(true);

new Server<Session>({
  // @ts-expect-error -- data that is not a Session
  onUpgrade: () => ({ data: { nick: 42 } }),
});

new Server<Session>({
  onMessage(conn) {
    // @ts-expect-error -- Session has no `id`
    conn.data.id;
  },
});

// An explicit `Data` with a schema needs the format too (TypeScript infers all or none).
new Server<Session>({
  // @ts-expect-error -- the format was left at its default, "text"
  messages: Chat,
});

// onUpgrade's data does not retype `conn.data` of a server without type arguments.
new Server({
  onUpgrade: () => ({ data: { nick: "a" } }),
  onConnect(conn) {
    same<typeof conn.data, unknown>(true);
    conn.data = "anything";
  },
});

// Not a format, not a schema.
// @ts-expect-error -- "xml" is no format
new Server({ messages: "xml" });
// @ts-expect-error -- not a Standard Schema
new Server({ messages: { validate: () => true } });

// A typed onMessage with the wrong message type.
new Server({
  messages: Chat,
  // @ts-expect-error -- the schema's output is an object, not a string
  onMessage: (_conn: Connection, message: string) => message.length,
});

// Code written before generics keeps compiling: the options type, a server
// from `InstanceType`, options from `ConstructorParameters`, a `Connection` parameter.
const plain: ServerOptions = { onMessage: (conn, message) => void conn.send(message) };
type AnyServer = InstanceType<typeof Server>;
const fromPlain: AnyServer = new Server(plain);
const spread = (options: ConstructorParameters<typeof Server>[0]) =>
  new Server({ ...options, onMessage: (_conn, message: string) => message.length });
const greet = (conn: Connection) => conn.send("hi");
new Server<Session, "json">({ messages: "json", onConnect: greet });
void fromPlain;
void spread;
// A typed server goes wherever a `Server` (or its connections) went before.
const count = (server: Server) => server.connections.size;
count(typed);
count(new Server({ messages: "json" }));
const first = (server: Server): Connection | undefined => [...server.connections.values()][0];
first(typed);

// The types a library may build on.
same<MessageOf<"text">, string>(true);
same<MessageOf<typeof Chat>, z.output<typeof Chat>>(true);
const _schema: StandardSchemaV1<unknown, { x: number; y: string }> = Move;
void _schema;
