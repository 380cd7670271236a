/** The shared suites (server contract, chat example, client), run against bun. */
import { chatSuite } from "./chat-suite.ts";
import { clientSuite } from "./client-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("bun");
chatSuite("bun");
clientSuite("bun");
