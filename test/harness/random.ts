/**
 * A seeded random number generator for tests that do things at random points
 * (cut connections, pace sends): the seed is printed, and `POLYSOCKET_SEED=<n>`
 * runs the same choices again to reproduce a failure.
 */

/** A generator of numbers in [0, 1) from `seed` (mulberry32: small, fast, good enough for tests). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed to use: `POLYSOCKET_SEED` if set, else a fresh one; printed with `what` either way. */
export function testSeed(what: string): number {
  const given = process.env.POLYSOCKET_SEED;
  const seed = given === undefined || given === "" ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  if (!Number.isSafeInteger(seed)) throw new TypeError(`POLYSOCKET_SEED must be an integer, got ${given}`);
  console.log(`${what}: seed ${seed} (POLYSOCKET_SEED=${seed} repeats it)`);
  return seed;
}

/** An integer in [min, max] from `random`. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
