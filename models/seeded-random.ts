// mulberry32: a tiny 32-bit PRNG; good enough for weights and test inputs,
// and the same sequence on every platform. Returns floats in [0, 1). The
// demo models draw their generated weights from it, so every build is
// byte-identical.
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
