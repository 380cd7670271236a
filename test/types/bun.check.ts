/**
 * Typechecked with bun-types (tsconfig.bun.json): the adapter's structural
 * copies of Bun's API must fit the real `Bun.serve` and its sockets.
 */
import type { ServerWebSocket } from "bun";
import type { BunServeOptions, BunServer, BunSocket } from "../../src/adapters/bun/types.ts";

type Data = { request: unknown; conn?: unknown };

export const serve = (options: BunServeOptions<Data>): BunServer<Data> => Bun.serve<Data>(options);
export const socket = (ws: ServerWebSocket<Data>): BunSocket<Data> => ws;
