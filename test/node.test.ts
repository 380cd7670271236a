/** The shared suites (server contract, chat example, client), run against node. */
import { chatSuite } from "./chat-suite.ts";
import { clientSuite } from "./client-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("node");
chatSuite("node");
clientSuite("node");
