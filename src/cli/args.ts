/**
 * Command-line parsing for `polysocket`, with `node:util`'s `parseArgs`
 * (available on Node, Bun and Deno alike).
 */
import { parseArgs } from "node:util";
import type { ChatServerOptions } from "./chat-server.ts";

/** What the command line asks for. */
export type CliCommand =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "chat"; readonly options: ChatServerOptions; readonly redis?: string };

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The text of `polysocket --help`. */
export const USAGE = `Usage: polysocket <command> [options]

Commands:
  chat                 Run the chat server (ws://localhost:8080/chat) and its page (http://localhost:8080/)

Options of chat:
  -p, --port <n>       Port to listen on; 0 picks a free one (default: $PORT or 8080)
      --host <name>    Interface to bind (default: 0.0.0.0)
      --path <path>    WebSocket path (default: /chat)
      --history <n>    Messages replayed to newcomers (default: 1000)
      --redis <url>    Share the room across processes through Redis (needs ioredis)

  -h, --help           Show this help
  -v, --version        Show the version`;

const OPTIONS = {
  port: { type: "string", short: "p" },
  host: { type: "string" },
  path: { type: "string" },
  history: { type: "string" },
  redis: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** Parses `argv` (without the runtime and script); throws {@link UsageError}. */
export function parseCliArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): CliCommand {
  const { values, positionals } = parse(argv);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError("no command given");
  if (command !== "chat") throw new UsageError(`unknown command "${command}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const options: ChatServerOptions = {
    port: integer("--port", values.port ?? env.PORT ?? "8080", 65535),
    hostname: values.host,
    path: values.path,
    historyLimit: values.history === undefined ? undefined : integer("--history", values.history),
  };
  return { kind: "chat", options, redis: values.redis };
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integer(flag: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max) {
    throw new UsageError(`${flag} must be an integer from 0 to ${max}, got "${text}"`);
  }
  return value;
}
