/** The shared suite and the chat example, run against bun. */
import { chatSuite } from "./chat-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("bun");
chatSuite("bun");
