/**
 * Seeded random numbers for everything random in Blameboard (sampling, noise, baselines,
 * bootstrap). mulberry32 for uniforms, Box–Muller for normals: small, fast and identical on
 * every platform, so a seed reproduces a result anywhere.
 */
export class Rng {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    // Mix the seed once so that nearby seeds give unrelated streams.
    let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
    return out;
  }

  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    return this.addNormals(out, null, mean, std);
  }

  /**
   * out[i] = base[i] + normal(mean, std) for every i (base null: 0 +), drawing exactly the
   * numbers successive normal() calls would, spare included, in one loop: the state and the
   * spare live in locals instead of object fields (storing a double into the `number | null`
   * field allocated a heap number per draw), about 5× faster (SmoothGrad's noise).
   */
  addNormals(out: Float32Array | Float64Array, base: ArrayLike<number> | null, mean = 0, std = 1): typeof out {
    let state = this.state;
    let hasSpare = this.spareNormal !== null;
    let spare = this.spareNormal ?? 0;
    const n = out.length;
    for (let i = 0; i < n; i++) {
      let value: number;
      if (hasSpare) {
        hasSpare = false;
        value = mean + std * spare;
      } else {
        let u = 0;
        while (u === 0) {
          state = (state + 0x6d2b79f5) >>> 0;
          let t = state;
          t = Math.imul(t ^ (t >>> 15), t | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        }
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        const v = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        const r = Math.sqrt(-2 * Math.log(u));
        spare = r * Math.sin(2 * Math.PI * v);
        hasSpare = true;
        // As normal(): (std · r) · cos, in that order.
        value = mean + std * r * Math.cos(2 * Math.PI * v);
      }
      out[i] = base === null ? value : base[i] + value;
    }
    this.state = state;
    this.spareNormal = hasSpare ? spare : null;
    return out;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** k distinct indices from [0, n), in the order drawn. */
  sample(n: number, k: number): number[] {
    if (k > n) throw new Error(`cannot sample ${k} distinct indices from ${n}`);
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx.slice(0, k);
  }
}
