/** The shared suite and the chat example, run against node. */
import { chatSuite } from "./chat-suite.ts";
import { serverSuite } from "./suite.ts";

serverSuite("node");
chatSuite("node");
