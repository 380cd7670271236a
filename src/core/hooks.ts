/**
 * Calling user hooks safely: a throw or a rejection becomes a `WebSocketError`
 * handed to `onError`, and never escapes into the runtime's event loop.
 */
import type { Connection } from "./connection.ts";
import { WebSocketError } from "./errors.ts";

/** Where hook failures are reported. */
export type ErrorSink = (error: Error, conn?: Connection) => void;

/**
 * Runs `hook(...args)`. Returns a promise only when the hook returned one,
 * settled either way (never rejected), so callers can wait without a try.
 */
export function callHook<A extends unknown[]>(
  name: string,
  hook: ((...args: A) => unknown) | undefined,
  args: A,
  report: ErrorSink,
  conn?: Connection,
): Promise<void> | undefined {
  if (!hook) return undefined;
  try {
    const result = hook(...args);
    // The failure handler is made only when needed: this runs once per message.
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        () => undefined,
        (error: unknown) => report(hookError(name, error), conn),
      );
    }
  } catch (error) {
    report(hookError(name, error), conn);
  }
  return undefined;
}

/** Wraps what a hook threw as `ERR_HOOK`, naming the hook. */
export function hookError(name: string, cause: unknown): WebSocketError {
  const text = cause instanceof Error ? cause.message : String(cause);
  return new WebSocketError("ERR_HOOK", `${name} failed: ${text}`, { cause });
}

/** Whether a hook (or a schema) answered with a promise, or anything with a `then`. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/** Reports to the user's `onError`, falling back to the console if there is none or it throws. */
export function errorSink(onError: ErrorSink | undefined): ErrorSink {
  return (error, conn) => {
    if (onError) {
      try {
        onError(error, conn);
        return;
      } catch (thrown) {
        console.error("[polysocket] onError threw:", thrown);
      }
    }
    console.error("[polysocket]", error);
  };
}
