/**
 * Typechecked by `deno check` against Deno's own types: the adapter's
 * structural copies of Deno's API must accept the real `Deno` global.
 */
import type { DenoGlobal, DenoSocket } from "../../src/adapters/deno/types.ts";

export const deno: DenoGlobal = Deno;
export const socket = (ws: WebSocket): DenoSocket => ws;
