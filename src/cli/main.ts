/**
 * `polysocket` command: parses the command line and runs the chat server (and
 * its page) until SIGINT or SIGTERM. Kept apart from `bin.ts` so tests can call it.
 */
import { parseCliArgs, USAGE, UsageError } from "./args.ts";
import { startChatServer } from "./chat-server.ts";
import { VERSION } from "./version.ts";

/** Where the command writes. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/**
 * Runs the command line `argv`. Resolves with an exit code for commands that end
 * (help, version, errors), or with `undefined` once the chat server is listening.
 */
export async function main(argv: readonly string[], io: CliIo = consoleIo): Promise<number | undefined> {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`polysocket: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  switch (command.kind) {
    case "help":
      io.out(USAGE);
      return 0;
    case "version":
      io.out(VERSION);
      return 0;
    case "chat":
      return chat({ ...command.options, redis: command.redis }, io);
  }
}

async function chat(options: Parameters<typeof startChatServer>[0], io: CliIo): Promise<number | undefined> {
  let server: Awaited<ReturnType<typeof startChatServer>>;
  try {
    server = await startChatServer({ ...options, onError: (error) => io.err(String(error)) });
  } catch (error) {
    io.err(`polysocket chat: ${(error as Error).message}`);
    return 1;
  }
  io.out(`WebSocket Chat Server started on ${server.url}`);
  io.out(`Chat page on ${server.pageUrl}`);
  // A repeated signal (Ctrl-C under a wrapper delivers SIGINT twice) must not kill the shutdown.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return undefined;
}
