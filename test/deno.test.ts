/** The shared suite and the chat example, run against deno. */
import { chatSuite } from "./chat-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("deno");
chatSuite("deno");
