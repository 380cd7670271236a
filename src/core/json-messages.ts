/**
 * The `messages` option: how a server reads text messages before any hook sees
 * them. `"text"` (the default) hands hooks the string; `"json"` parses it;
 * a Standard Schema parses it, then validates the value. What is refused and
 * the text its sender gets is decided here; the counting and closing is the
 * inbound policy's (inbound.ts), as for any invalid message.
 */

import type {
  InferOutput,
  StandardIssue,
  StandardPathSegment,
  StandardResult,
  StandardSchemaV1,
} from "./standard-schema.ts";
import type { JsonValue } from "./types.ts";
import { describe } from "./validate.ts";

/**
 * How a server reads text messages: `"text"` as they came (the default),
 * `"json"` parsed as JSON, or any Standard Schema v1 schema (zod, valibot,
 * arktype, ...): parsed as JSON, then validated (and transformed) by the schema.
 */
export type MessageFormat = "text" | "json" | StandardSchemaV1;

/**
 * The type of the messages `onMessage` and `validate` receive under a format:
 * `string` for `"text"`, {@link JsonValue} for `"json"`, the schema's output type for a schema.
 */
export type MessageOf<Format> = Format extends "json"
  ? JsonValue
  : Format extends StandardSchemaV1
    ? InferOutput<Format>
    : string;

/** Validates the `messages` option: a format name or a Standard Schema v1 object; `"text"` when absent. */
export function resolveMessages(value: unknown): MessageFormat {
  if (value === undefined || value === "text" || value === "json") return value ?? "text";
  if (isStandardSchema(value)) return value;
  throw new TypeError(
    `options.messages must be "text", "json" or a Standard Schema (with ~standard.version 1 and ~standard.validate), got ${describe(value)}`,
  );
}

/** Schemas are objects, or functions (arktype's types are callable). */
function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const standard = (value as Partial<StandardSchemaV1>)["~standard"];
  return standard?.version === 1 && typeof standard.validate === "function";
}

/** What {@link parseJson} returns for text that is not JSON (no JSON value is a symbol). */
export const MALFORMED: unique symbol = Symbol("malformed JSON");

/**
 * Why malformed JSON is refused. The same words on every runtime: the parsers'
 * own messages differ (V8's `Unexpected token ...` and JavaScriptCore's
 * `JSON Parse error: ...`), and a sender needs no more than this.
 */
export const MALFORMED_REASON = "malformed JSON";

/** The text's JSON value, or {@link MALFORMED}. */
export function parseJson(text: string): JsonValue | typeof MALFORMED {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return MALFORMED;
  }
}

/**
 * A schema's result as polysocket reads it: its value, or the reason for the
 * refusal. Throws `TypeError` for a result that is neither (a broken schema).
 */
export function outcome(result: StandardResult<unknown>): { value: unknown } | { reason: string } {
  if (typeof result !== "object" || result === null) {
    throw new TypeError(`the schema's validate returned ${describe(result)}, not a result`);
  }
  // Per the spec, the absence of `issues` (not the presence of `value`) means success.
  return result.issues === undefined ? result : { reason: issuesReason(result.issues) };
}

/**
 * The first issue as a refusal reason, its path first (`at items[0].text: Expected
 * string, received number`), and how many more there are: one short line.
 */
export function issuesReason(issues: readonly StandardIssue[]): string {
  const [first] = issues;
  if (first === undefined) return "refused by the schema";
  const path = pathText(first.path);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${path === "" ? "" : `at ${path}: `}${String(first.message)}${more}`;
}

/** `a.b[0].c`: names joined with dots, numbers (array indexes) in brackets. */
function pathText(path: StandardIssue["path"]): string {
  let text = "";
  for (const step of path ?? []) {
    const key = typeof step === "object" && step !== null ? (step as StandardPathSegment).key : step;
    if (typeof key === "number") text += `[${key}]`;
    else text += text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}
