/** The shared suites and the chat example, run against deno. */
import { chatSuite } from "./chat-suite.ts";
import { hardeningSuite } from "./hardening-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("deno");
hardeningSuite("deno");
chatSuite("deno");
