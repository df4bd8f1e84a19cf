/** Seeded randomness for reproducible test and benchmark models. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussianFiller(seed: number): (a: Float32Array, std: number) => Float32Array {
  const rnd = mulberry32(seed);
  return (a, std) => {
    for (let i = 0; i < a.length; i += 2) {
      const u = Math.max(rnd(), 1e-12),
        v = rnd();
      const r = Math.sqrt(-2 * Math.log(u)) * std;
      a[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
    return a;
  };
}
