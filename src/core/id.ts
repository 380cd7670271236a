const ID_BYTES = 9;
const pool = new Uint8Array(ID_BYTES * 256);
let poolOffset = pool.length;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Connection ids: 12 URL-safe characters (base64url) from 72 random bits. */
export function randomId(): string {
  // One call to the system's random source per 256 ids: it showed in the connection-rate profile.
  if (poolOffset === pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  let id = "";
  for (let end = poolOffset + ID_BYTES; poolOffset < end; poolOffset += 3) {
    const bits = (byteAt(poolOffset) << 16) | (byteAt(poolOffset + 1) << 8) | byteAt(poolOffset + 2);
    id += ALPHABET.charAt(bits >> 18) + ALPHABET.charAt((bits >> 12) & 63);
    id += ALPHABET.charAt((bits >> 6) & 63) + ALPHABET.charAt(bits & 63);
  }
  return id;
}

function byteAt(index: number): number {
  return pool[index] ?? 0;
}
