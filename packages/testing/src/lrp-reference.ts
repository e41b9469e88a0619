/**
 * An independent, deliberately naive LRP implementation for tests: every linear layer (dense or
 * conv) is unrolled into an explicit list of connections (i → k, weight w_ik), and each rule is
 * written straight from SPEC §3.1's formulas over that list, in float64. No ONNX, no transposed
 * convolutions — so agreement with the compiled graphs means something.
 */

export type RefRule =
  | { rule: 'epsilon'; epsilon: number }
  | { rule: 'gamma'; gamma: number }
  | { rule: 'alpha-beta'; alpha: number; beta: number }
  | { rule: 'z-plus' }
  | { rule: 'z-box'; low: number | number[]; high: number | number[] }
  | { rule: 'flat' }
  | { rule: 'w-square' };

export interface RefDense {
  kind: 'dense';
  /** [in][out], i.e. z_k = Σ_i x_i w[i][k] + b_k. */
  w: number[][];
  b?: number[];
  /** Which (i, k) are connections (default: all) — for a conv written out as a matrix. */
  connected?: boolean[][];
}

export interface RefConv {
  kind: 'conv';
  /** [out channels][in channels][kh][kw]. */
  w: number[][][][];
  b?: number[];
  stride?: [number, number];
  /** top, left, bottom, right. */
  pads?: [number, number, number, number];
}

export type RefLayer =
  | RefDense
  | RefConv
  | { kind: 'relu' }
  | { kind: 'flatten' }
  | { kind: 'avgpool'; k: number; stride: number }
  | { kind: 'maxpool'; k: number; stride: number };

export interface RefOptions {
  /** The rule of each linear layer, by its index among the linear layers. */
  rules: RefRule[];
  stabilizer: number;
  bias: 'absorb' | 'zero' | 'explicit';
  maxpool: 'winner-take-all' | 'proportional';
}

export interface RefResult {
  relevance: number[];
  /** Per linear layer: the bias relevance (explicit), else 0. */
  biasRelevance: number[];
  output: number[];
}

/** Per-sample shape: [features] or [channels, height, width]. */
type Shape = number[];

interface Connection {
  i: number;
  k: number;
  w: number;
}

interface Unrolled {
  inSize: number;
  outSize: number;
  conns: Connection[];
  bias: number[];
  outShape: Shape;
  /** Per input element, its channel (for per-channel z-box bounds). */
  channelOfInput: (i: number) => number;
}

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

function unroll(layer: RefDense | RefConv, inShape: Shape): Unrolled {
  if (layer.kind === 'dense') {
    const inSize = layer.w.length;
    const outSize = layer.w[0].length;
    if (size(inShape) !== inSize) throw new Error(`dense expects ${inSize} inputs, got shape ${inShape}`);
    const conns: Connection[] = [];
    for (let i = 0; i < inSize; i++) {
      for (let k = 0; k < outSize; k++) if (!layer.connected || layer.connected[i][k]) conns.push({ i, k, w: layer.w[i][k] });
    }
    return { inSize, outSize, conns, bias: layer.b ?? new Array(outSize).fill(0), outShape: [outSize], channelOfInput: (i) => i };
  }
  const [c, h, w] = inShape;
  const co = layer.w.length;
  const kh = layer.w[0][0].length;
  const kw = layer.w[0][0][0].length;
  const [sh, sw] = layer.stride ?? [1, 1];
  const [pt, pl, pb, pr] = layer.pads ?? [0, 0, 0, 0];
  const ho = Math.floor((h + pt + pb - kh) / sh) + 1;
  const wo = Math.floor((w + pl + pr - kw) / sw) + 1;
  const conns: Connection[] = [];
  const bias: number[] = [];
  for (let o = 0; o < co; o++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const k = (o * ho + y) * wo + x;
        bias[k] = layer.b ? layer.b[o] : 0;
        for (let ci = 0; ci < c; ci++) {
          for (let dy = 0; dy < kh; dy++) {
            for (let dx = 0; dx < kw; dx++) {
              const iy = y * sh - pt + dy;
              const ix = x * sw - pl + dx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue; // zero padding: no connection
              conns.push({ i: (ci * h + iy) * w + ix, k, w: layer.w[o][ci][dy][dx] });
            }
          }
        }
      }
    }
  }
  return { inSize: c * h * w, outSize: co * ho * wo, conns, bias, outShape: [co, ho, wo], channelOfInput: (i) => Math.floor(i / (h * w)) };
}

/** s(z) = z + stab·sign(z), sign(0) = +1. */
const stab = (z: number, e: number): number => z + (z >= 0 ? e : -e);
const pos = (v: number): number => Math.max(v, 0);
const neg = (v: number): number => Math.min(v, 0);

function linearForward(u: Unrolled, x: number[]): number[] {
  const z = [...u.bias];
  for (const { i, k, w } of u.conns) z[k] += x[i] * w;
  return z;
}

/** One linear layer's rule: input relevance and the bias's share. */
function linearRule(u: Unrolled, x: number[], R: number[], rule: RefRule, opts: RefOptions): { Rin: number[]; biasR: number } {
  const e = opts.stabilizer;
  const b = opts.bias === 'zero' ? u.bias.map(() => 0) : u.bias;
  const Rin = new Array(u.inSize).fill(0);
  let biasR = 0;
  const sumOver = (f: (c: Connection) => number, bias: (k: number) => number): number[] => {
    const z = new Array(u.outSize).fill(0).map((_, k) => bias(k));
    for (const c of u.conns) z[c.k] += f(c);
    return z;
  };
  switch (rule.rule) {
    case 'epsilon': {
      const z = sumOver((c) => x[c.i] * c.w, (k) => b[k]);
      const r = z.map((zk, k) => {
        const s = stab(zk, rule.epsilon);
        return s === 0 ? 0 : R[k] / s;
      });
      for (const c of u.conns) Rin[c.i] += x[c.i] * c.w * r[c.k];
      for (let k = 0; k < u.outSize; k++) biasR += b[k] * r[k];
      break;
    }
    case 'gamma': {
      const g = rule.gamma;
      const Pw = (w: number): number => w + g * pos(w);
      const Nw = (w: number): number => w + g * neg(w);
      const z = sumOver((c) => x[c.i] * c.w, (k) => b[k]);
      const p = sumOver((c) => pos(x[c.i]) * Pw(c.w) + neg(x[c.i]) * Nw(c.w), (k) => b[k] + g * pos(b[k]));
      const n = sumOver((c) => pos(x[c.i]) * Nw(c.w) + neg(x[c.i]) * Pw(c.w), (k) => b[k] + g * neg(b[k]));
      for (const c of u.conns) {
        const zk = z[c.k];
        if (zk > 0) Rin[c.i] += ((pos(x[c.i]) * Pw(c.w) + neg(x[c.i]) * Nw(c.w)) * R[c.k]) / stab(p[c.k], e);
        else if (zk < 0) Rin[c.i] += ((pos(x[c.i]) * Nw(c.w) + neg(x[c.i]) * Pw(c.w)) * R[c.k]) / stab(n[c.k], e);
      }
      for (let k = 0; k < u.outSize; k++) {
        if (z[k] > 0) biasR += ((b[k] + g * pos(b[k])) * R[k]) / stab(p[k], e);
        else if (z[k] < 0) biasR += ((b[k] + g * neg(b[k])) * R[k]) / stab(n[k], e);
      }
      break;
    }
    case 'alpha-beta':
    case 'z-plus': {
      const alpha = rule.rule === 'z-plus' ? 1 : rule.alpha;
      const beta = rule.rule === 'z-plus' ? 0 : rule.beta;
      const za = sumOver((c) => pos(c.w) * pos(x[c.i]) + neg(c.w) * neg(x[c.i]), (k) => pos(b[k]));
      const zb = sumOver((c) => neg(c.w) * pos(x[c.i]) + pos(c.w) * neg(x[c.i]), (k) => neg(b[k]));
      const ra = za.map((z, k) => R[k] / stab(z, e));
      const rb = zb.map((z, k) => R[k] / stab(z, e));
      for (const c of u.conns) {
        const xi = x[c.i];
        Rin[c.i] +=
          alpha * (pos(xi) * pos(c.w) * ra[c.k] + neg(xi) * neg(c.w) * ra[c.k]) -
          beta * (pos(xi) * neg(c.w) * rb[c.k] + neg(xi) * pos(c.w) * rb[c.k]);
      }
      for (let k = 0; k < u.outSize; k++) biasR += alpha * pos(b[k]) * ra[k] - beta * neg(b[k]) * rb[k];
      break;
    }
    case 'z-box': {
      const bound = (v: number | number[], i: number): number => (typeof v === 'number' ? v : v[u.channelOfInput(i)]);
      const L = (i: number): number => bound(rule.low, i);
      const H = (i: number): number => bound(rule.high, i);
      const z = sumOver((c) => x[c.i] * c.w - L(c.i) * pos(c.w) - H(c.i) * neg(c.w), () => 0);
      const r = z.map((zk, k) => R[k] / stab(zk, e));
      for (const c of u.conns) Rin[c.i] += (x[c.i] * c.w - L(c.i) * pos(c.w) - H(c.i) * neg(c.w)) * r[c.k];
      break;
    }
    case 'flat': {
      const z = sumOver(() => 1, () => 0);
      for (const c of u.conns) Rin[c.i] += R[c.k] / stab(z[c.k], e);
      break;
    }
    case 'w-square': {
      const z = sumOver((c) => c.w * c.w, (k) => b[k] * b[k]);
      for (const c of u.conns) Rin[c.i] += (c.w * c.w * R[c.k]) / stab(z[c.k], e);
      for (let k = 0; k < u.outSize; k++) biasR += (b[k] * b[k] * R[k]) / stab(z[k], e);
      break;
    }
  }
  return { Rin, biasR: opts.bias === 'explicit' ? biasR : 0 };
}

interface Window {
  k: number;
  inputs: number[];
}

function poolWindows(inShape: Shape, k: number, stride: number): { windows: Window[]; outShape: Shape } {
  const [c, h, w] = inShape;
  const ho = Math.floor((h - k) / stride) + 1;
  const wo = Math.floor((w - k) / stride) + 1;
  const windows: Window[] = [];
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < ho; y++)
      for (let x = 0; x < wo; x++) {
        const inputs: number[] = [];
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) inputs.push((ch * h + y * stride + dy) * w + x * stride + dx);
        windows.push({ k: (ch * ho + y) * wo + x, inputs });
      }
  return { windows, outShape: [c, ho, wo] };
}

/** Forward pass and LRP for one sample; relevance starts as f_t(x) on the target. */
export function referenceLrp(layers: RefLayer[], inShape: Shape, x: number[], target: number, opts: RefOptions): RefResult {
  // Forward, remembering each layer's input.
  const inputs: number[][] = [];
  const shapes: Shape[] = [];
  const unrolled: (Unrolled | null)[] = [];
  const windows: (Window[] | null)[] = [];
  let a = x;
  let shape = inShape;
  for (const layer of layers) {
    inputs.push(a);
    shapes.push(shape);
    if (layer.kind === 'dense' || layer.kind === 'conv') {
      const u = unroll(layer, shape);
      unrolled.push(u);
      windows.push(null);
      a = linearForward(u, a);
      shape = u.outShape;
    } else if (layer.kind === 'avgpool' || layer.kind === 'maxpool') {
      const p = poolWindows(shape, layer.k, layer.stride);
      unrolled.push(null);
      windows.push(p.windows);
      const out = new Array(size(p.outShape)).fill(0);
      for (const win of p.windows) {
        const vals = win.inputs.map((i) => a[i]);
        out[win.k] = layer.kind === 'avgpool' ? vals.reduce((s, v) => s + v, 0) / vals.length : Math.max(...vals);
      }
      a = out;
      shape = p.outShape;
    } else {
      unrolled.push(null);
      windows.push(null);
      if (layer.kind === 'relu') a = a.map(pos);
      else shape = [size(shape)];
    }
  }
  const output = a;
  let R = output.map((v, k) => (k === target ? v : 0));
  const linearCount = unrolled.filter((u) => u).length;
  const biasRelevance = new Array(linearCount).fill(0);
  let linearIndex = linearCount;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const xin = inputs[l];
    const u = unrolled[l];
    if (u) {
      linearIndex--;
      const { Rin, biasR } = linearRule(u, xin, R, opts.rules[linearIndex], opts);
      biasRelevance[linearIndex] = biasR;
      R = Rin;
    } else if (layer.kind === 'avgpool') {
      // Zennit's Norm: the ε rule with ε = stabilizer over the pool's (uniform) weights.
      const Rin = new Array(xin.length).fill(0);
      for (const win of windows[l]!) {
        const m = win.inputs.length;
        const z = win.inputs.reduce((s, i) => s + xin[i] / m, 0);
        for (const i of win.inputs) Rin[i] += ((xin[i] / m) * R[win.k]) / stab(z, opts.stabilizer);
      }
      R = Rin;
    } else if (layer.kind === 'maxpool') {
      const Rin = new Array(xin.length).fill(0);
      for (const win of windows[l]!) {
        if (opts.maxpool === 'winner-take-all') {
          let best = win.inputs[0];
          for (const i of win.inputs) if (xin[i] > xin[best]) best = i;
          Rin[best] += R[win.k];
        } else {
          const z = win.inputs.reduce((s, i) => s + pos(xin[i]), 0);
          for (const i of win.inputs) Rin[i] += (pos(xin[i]) * R[win.k]) / stab(z, opts.stabilizer);
        }
      }
      R = Rin;
    }
    // relu and flatten pass relevance unchanged.
  }
  return { relevance: R, biasRelevance, output };
}
