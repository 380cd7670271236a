/** The shared suites (server contract, hardening, chat example, onRequest, client, browser), run against node. */
import { browserSuite } from "./browser-suite.ts";
import { chatSuite } from "./chat-suite.ts";
import { clientSuite } from "./client-suite.ts";
import { compressionSuite } from "./compression-suite.ts";
import { hardeningSuite } from "./hardening-suite.ts";
import { httpStatusSuite } from "./http-status-suite.ts";
import { httpSuite } from "./http-suite.ts";
import { messagesSuite } from "./messages-suite.ts";
import { metricsSuite } from "./metrics-suite.ts";
import { roomsSuite } from "./rooms-suite.ts";
import { serverSuite } from "./suite.ts";
import { tlsSuite } from "./tls-suite.ts";
import { topicsSuite } from "./topics-suite.ts";

serverSuite("node");
hardeningSuite("node");
topicsSuite("node");
messagesSuite("node");
roomsSuite("node");
compressionSuite("node");
metricsSuite("node");
chatSuite("node");
httpSuite("node");
httpStatusSuite("node");
clientSuite("node");
browserSuite("node");
tlsSuite("node");
