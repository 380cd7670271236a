/** The shared suites and the chat example, run against bun. */
import { chatSuite } from "./chat-suite.ts";
import { hardeningSuite } from "./hardening-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("bun");
hardeningSuite("bun");
chatSuite("bun");
