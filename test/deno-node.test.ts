/**
 * The shared suites on Deno with the Node adapter (`ws` over Deno's Node layer,
 * `polysocket/node`): the mode the benchmark compares with Deno's own WebSocket.
 * The chat example and the client suite do not depend on the server adapter's mode.
 */
import { browserSuite } from "./browser-suite.ts";
import { compressionSuite } from "./compression-suite.ts";
import { hardeningSuite } from "./hardening-suite.ts";
import { DENO_NODE_ADAPTER } from "./harness/runtimes.ts";
import { httpStatusSuite } from "./http-status-suite.ts";
import { httpSuite } from "./http-suite.ts";
import { messagesSuite } from "./messages-suite.ts";
import { metricsSuite } from "./metrics-suite.ts";
import { roomsSuite } from "./rooms-suite.ts";
import { serverSuite } from "./suite.ts";
import { tlsSuite } from "./tls-suite.ts";
import { topicsSuite } from "./topics-suite.ts";

serverSuite("deno", DENO_NODE_ADAPTER);
hardeningSuite("deno", DENO_NODE_ADAPTER);
topicsSuite("deno", DENO_NODE_ADAPTER);
messagesSuite("deno", DENO_NODE_ADAPTER);
roomsSuite("deno", DENO_NODE_ADAPTER);
compressionSuite("deno", DENO_NODE_ADAPTER);
metricsSuite("deno", DENO_NODE_ADAPTER);
httpSuite("deno", DENO_NODE_ADAPTER);
httpStatusSuite("deno", DENO_NODE_ADAPTER);
browserSuite("deno", DENO_NODE_ADAPTER);
tlsSuite("deno", DENO_NODE_ADAPTER);
