/** The shared suites and the chat example, run against node. */
import { chatSuite } from "./chat-suite.ts";
import { hardeningSuite } from "./hardening-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("node");
hardeningSuite("node");
chatSuite("node");
