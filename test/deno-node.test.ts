/**
 * The shared suite on Deno with the Node adapter (`ws` over Deno's Node layer,
 * `polysocket/node`): the mode the benchmark compares with Deno's own WebSocket.
 */
import { serverSuite } from "./suite.ts";

serverSuite("deno", { name: "deno+node-adapter", env: { POLYSOCKET_ADAPTER: "node" } });
