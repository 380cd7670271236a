/** The shared suites (server contract, chat example, client), run against deno. */
import { chatSuite } from "./chat-suite.ts";
import { clientSuite } from "./client-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("deno");
chatSuite("deno");
clientSuite("deno");
