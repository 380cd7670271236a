/**
 * Plain HTTP next to the WebSocket path: the user's `onRequest` answers first,
 * the route's own answer (404, 426, 503) is the fallback.
 */
import type { RequestHandler, RouteDecision } from "./types.ts";

export type { RequestHandler } from "./types.ts";

import { WebSocketError } from "./errors.ts";
import type { ErrorSink } from "./hooks.ts";

/** A route decision that refuses the upgrade and answers with plain HTTP. */
export type PlainAnswer = Extract<RouteDecision, { upgrade: false }>;

/** The fallback answer of a refused route, as a `Response`. */
export function plainResponse(decision: PlainAnswer): Response {
  return new Response(decision.body, { status: decision.status, headers: decision.headers });
}

/**
 * Lets `handler` answer `request`, falling back to `decision`. Never rejects:
 * a throwing or rejecting handler is reported to `report` and answered with 500.
 */
export async function answerRequest(
  handler: RequestHandler | undefined,
  request: Request,
  decision: PlainAnswer,
  report: ErrorSink,
): Promise<Response> {
  if (!handler) return plainResponse(decision);
  try {
    const response = await handler(request);
    if (response !== undefined) return response;
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : String(cause);
    report(new WebSocketError("ERR_HOOK", `onRequest failed: ${text}`, { cause }));
    return new Response("Internal Server Error", { status: 500 });
  }
  return plainResponse(decision);
}
