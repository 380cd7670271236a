/**
 * The shared suites against a polysocket server mounted into a host server of
 * each runtime (test/fixtures/mount.ts): node:http with `attach`, `Bun.serve`
 * with `upgrade` and `websocket`, `Deno.serve` with `handler`. Same contract as
 * a server that owns its port; where the host owns a setting (HTTP timeouts),
 * the hardening suite's capabilities say what applies.
 */
import { hardeningSuite } from "./hardening-suite.ts";
import { mountedVariant, RUNTIMES } from "./harness/runtimes.ts";
import { mountSuite } from "./mount-suite.ts";
import { serverSuite } from "./suite.ts";
import { topicsSuite } from "./topics-suite.ts";

for (const runtime of RUNTIMES) {
  serverSuite(runtime, mountedVariant(runtime));
  hardeningSuite(runtime, mountedVariant(runtime));
  topicsSuite(runtime, mountedVariant(runtime));
  mountSuite(runtime);
}
