// Randomness for the core (election timeouts) comes from an injected source so that runs can be replayed.

export interface RandomSource {
  /** A uniformly distributed integer in [0, n). */
  intn(n: number): number;
}

/** mulberry32: a small, fast, seeded 32-bit generator (not for cryptography). */
export function seededRandom(seed: number): RandomSource & { next(): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    intn: (n: number) => Math.floor(next() * n),
  };
}
