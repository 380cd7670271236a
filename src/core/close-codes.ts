/**
 * Close codes a server may send (RFC 6455 section 7.4 and the IANA registry).
 */

/** Largest close reason, in UTF-8 bytes, that fits a control frame. */
export const MAX_REASON_BYTES = 123;

/** True for codes an endpoint may put in a close frame. */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** Throws `TypeError` for a close code or reason that cannot be sent. */
export function validateClose(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) {
    throw new TypeError(`close code must be 1000-1003, 1007-1014 or 3000-4999, got ${String(code)}`);
  }
  if (typeof reason !== "string") {
    throw new TypeError(`close reason must be a string, got ${typeof reason}`);
  }
  const bytes = new TextEncoder().encode(reason).length;
  if (bytes > MAX_REASON_BYTES) {
    throw new TypeError(`close reason must be at most ${MAX_REASON_BYTES} UTF-8 bytes, got ${bytes}`);
  }
}
