/**
 * Ziggurat tables (Marsaglia & Tsang 2000, 128 layers) for the standard normal, scaled for a
 * 25-bit signed draw: one 32-bit uniform gives the layer (its low 7 bits) and the value (its
 * high 25 bits), so the two are independent (Doornik 2005 showed the original shares bits).
 */
const ZIG_R = 3.442619855899;
const ZIG_SCALE = 2 ** 24;
const zigK = new Float64Array(128);
const zigW = new Float64Array(128);
const zigF = new Float64Array(128);
{
  const v = 9.91256303526217e-3;
  let d = ZIG_R;
  let t = d;
  const q = v / Math.exp(-0.5 * d * d);
  zigK[0] = (d / q) * ZIG_SCALE;
  zigK[1] = 0;
  zigW[0] = q / ZIG_SCALE;
  zigW[127] = d / ZIG_SCALE;
  zigF[0] = 1;
  zigF[127] = Math.exp(-0.5 * d * d);
  for (let i = 126; i >= 1; i--) {
    d = Math.sqrt(-2 * Math.log(v / d + Math.exp(-0.5 * d * d)));
    zigK[i + 1] = (d / t) * ZIG_SCALE;
    t = d;
    zigF[i] = Math.exp(-0.5 * d * d);
    zigW[i] = d / ZIG_SCALE;
  }
}

/** zigK rounded up, for an integer comparison: for an integer h, |h| < k exactly when |h| < ⌈k⌉. */
const zigKCeil = Int32Array.from(zigK, (k) => Math.ceil(k));

/**
 * Seeded random numbers for everything random in Blameboard (sampling, noise, baselines,
 * bootstrap). mulberry32 for uniforms, the ziggurat for normals: small, fast and identical on
 * every platform, so a seed reproduces a result anywhere. The ziggurat replaced Box–Muller,
 * whose log, sqrt, sin and cos made SmoothGrad's noise a fifth of its time (docs/decisions.md).
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed once so that nearby seeds give unrelated streams.
    let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** The next 32-bit output of mulberry32, as an unsigned integer. */
  private nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(mean = 0, std = 1): number {
    const u = this.nextUint32();
    const layer = u & 127;
    const h = (u | 0) >> 7;
    const z = Math.abs(h) < zigK[layer] ? h * zigW[layer] : this.normalSlow(h, layer);
    return mean + std * z;
  }

  /** The ziggurat's rare path (≈ 1.2% of draws): the wedge of a layer, or the tail beyond R. */
  private normalSlow(h: number, layer: number): number {
    for (;;) {
      if (layer === 0) {
        let x: number;
        let y: number;
        do {
          x = -Math.log(1 - this.next()) / ZIG_R;
          y = -Math.log(1 - this.next());
        } while (y + y < x * x);
        return h > 0 ? ZIG_R + x : -ZIG_R - x;
      }
      const x = h * zigW[layer];
      if (zigF[layer] + this.next() * (zigF[layer - 1] - zigF[layer]) < Math.exp(-0.5 * x * x)) return x;
      const u = this.nextUint32();
      layer = u & 127;
      h = (u | 0) >> 7;
      if (Math.abs(h) < zigK[layer]) return h * zigW[layer];
    }
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
   * numbers successive normal() calls would. The fast path is inlined with the state in a
   * local (SmoothGrad's noise: tens of millions of draws per run), and kept in int32: the same
   * bits as nextUint32's unsigned arithmetic, but V8 keeps them in integer registers (5.6 vs
   * 7.2 ns per draw in Node 20; an unsigned state above 2³¹ is a double to it).
   */
  addNormals(out: Float32Array | Float64Array, base: ArrayLike<number> | null, mean = 0, std = 1): typeof out {
    const n = out.length;
    let state = this.state | 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= (t + Math.imul(t ^ (t >>> 7), t | 61)) | 0;
      const u = t ^ (t >>> 14);
      const layer = u & 127;
      const h = u >> 7;
      let z: number;
      if (Math.abs(h) < zigKCeil[layer]) z = h * zigW[layer];
      else {
        this.state = state >>> 0;
        z = this.normalSlow(h, layer);
        state = this.state | 0;
      }
      const value = mean + std * z;
      out[i] = base === null ? value : base[i] + value;
    }
    this.state = state >>> 0;
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
