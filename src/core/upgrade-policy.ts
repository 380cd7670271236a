/**
 * Deciding what happens to an HTTP request on the server's port, before any
 * connection exists: path, upgrade, shutdown, capacity, origin, then `onUpgrade`.
 */

import { validateClose } from "./close-codes.ts";
import { type ErrorSink, hookError } from "./hooks.ts";
import { STATUS_TEXT } from "./http-status.ts";
import type { ResolvedOptions, UpgradeAccept, UpgradeReject, UpgradeResult } from "./options.ts";
import type { RouteDecision, UpgradeRequest } from "./types.ts";
import { describe } from "./validate.ts";

const ACCEPT: RouteDecision = { upgrade: true };

/** A plain-HTTP answer with the status text as default body. */
export function refuse(status: number, body?: string, headers?: Record<string, string>): RouteDecision {
  return { upgrade: false, status, body: body ?? STATUS_TEXT[status] ?? "Error", headers };
}

const UPGRADE_REQUIRED = refuse(426, "Upgrade Required", { upgrade: "websocket", connection: "Upgrade" });

/** What the upgrade policy needs to know about the server right now. */
export interface ServerLoad {
  readonly shuttingDown: boolean;
  readonly openConnections: number;
}

/** Routes one request; only `onUpgrade` can make it asynchronous. */
export function routeRequest(
  options: ResolvedOptions,
  load: ServerLoad,
  request: UpgradeRequest,
  report: ErrorSink,
): RouteDecision | Promise<RouteDecision> {
  if (pathOf(request.url) !== options.path) return refuse(404, "Not Found");
  if (!request.upgrade) return UPGRADE_REQUIRED;
  if (load.shuttingDown) return refuse(503, "Server shutting down");
  if (load.openConnections >= options.maxConnections) return refuse(503, "Too many connections");
  const origin = request.header("origin");
  if (origin !== undefined && options.allowedOrigins && !options.allowedOrigins(origin)) {
    return refuse(403, "Origin not allowed");
  }
  if (!options.onUpgrade) return ACCEPT;
  return runOnUpgrade(options.onUpgrade, request, report);
}

function offeredProtocols(request: UpgradeRequest): string[] {
  return (request.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
}

/**
 * An accepted upgrade checked again once `onUpgrade` has settled: the server
 * may have begun shutting down or filled up meanwhile.
 */
export function recheck(options: ResolvedOptions, load: ServerLoad, decision: RouteDecision): RouteDecision {
  if (!decision.upgrade || decision.close) return decision;
  if (load.shuttingDown) return refuse(503, "Server shutting down");
  if (load.openConnections >= options.maxConnections) return refuse(503, "Too many connections");
  return decision;
}

/**
 * The close for a socket whose handshake completed when it no longer may open:
 * 1001 while shutting down, 1013 ("try again later") when the server is full.
 */
export function lateRefusal(
  options: ResolvedOptions,
  load: ServerLoad,
): { code: number; reason: string } | undefined {
  if (load.shuttingDown) return { code: 1001, reason: "server shutting down" };
  if (load.openConnections >= options.maxConnections) return { code: 1013, reason: "too many connections" };
  return undefined;
}

/** The path of a `/path?query` URL; no allocation when there is no query (most upgrades). */
export function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

async function runOnUpgrade(
  onUpgrade: NonNullable<ResolvedOptions["onUpgrade"]>,
  request: UpgradeRequest,
  report: ErrorSink,
): Promise<RouteDecision> {
  try {
    return decide(request, await onUpgrade(request));
  } catch (error) {
    report(hookError("onUpgrade", error));
    return refuse(500, "Internal Server Error");
  }
}

function decide(request: UpgradeRequest, result: UpgradeResult): RouteDecision {
  if (!result) return ACCEPT;
  if (isReject(result))
    return result.closeCode === undefined
      ? refuse(result.status, result.body, result.headers)
      : closeRefusal(result);
  if (result.protocol !== undefined && !offeredProtocols(request).includes(result.protocol)) {
    throw new TypeError(
      `onUpgrade chose protocol ${JSON.stringify(result.protocol)}, not offered by the client`,
    );
  }
  return { upgrade: true, data: result.data, protocol: result.protocol };
}

/**
 * A refusal a browser can see: the upgrade is accepted and closed at once with
 * `closeCode` (4000-4999) and the body as reason; no connection hook runs.
 */
function closeRefusal(result: UpgradeReject): RouteDecision {
  const code = result.closeCode as number;
  if (!Number.isInteger(code) || code < 4000 || code > 4999) {
    throw new TypeError(`onUpgrade's closeCode must be an integer from 4000 to 4999, got ${describe(code)}`);
  }
  const reason = result.body ?? STATUS_TEXT[result.status] ?? "";
  validateClose(code, reason);
  return { upgrade: true, close: { code, reason } };
}

function isReject(result: UpgradeAccept | UpgradeReject): result is UpgradeReject {
  return typeof (result as UpgradeReject).status === "number";
}
