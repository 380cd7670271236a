/**
 * Option checking shared by every constructor that takes options (`Server`,
 * `ChatRoom`, `connect`, the Redis room): exact descriptions of bad values, and
 * a `TypeError` for a name that is not an option, with the closest known one.
 */

/** A short, exact description of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  if (typeof value === "function") return "a function";
  return `${typeof value} ${String(value)}`;
}

/**
 * Throws `TypeError` for the first own key of `options` that is not in `known`:
 * a misspelt option would otherwise be ignored in silence (`prot: 9000` listening
 * on a random port). `where` names the options in the message, e.g. "options".
 */
export function rejectUnknown(options: object, known: readonly string[], where = "options"): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const near = closest(name, known);
    const hint = near === undefined ? "" : ` (did you mean ${near}?)`;
    throw new TypeError(`${where}.${name} is not an option${hint}; known: ${known.join(", ")}`);
  }
}

/** The known name nearest to `name`, if it is near enough to be a likely typo. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length]!;
}
