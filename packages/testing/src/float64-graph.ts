import { type Attribute, inferShapes, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';

/**
 * A float64 twin of an IR graph for onnxruntime, so finite differences can be taken with
 * double-precision numerics. onnxruntime's CPU provider has no double kernels for Conv,
 * ConvTranspose, AveragePool, GlobalAveragePool/MaxPool, LeakyRelu, Elu or Softplus; those are
 * rewritten here from their textbook definitions (im2col Gather + MatMul, a dense transposed-conv
 * matrix, window sums / counts, max/exp/log identities) — written independently of the tfjs
 * executor under test.
 */
export function toFloat64Graph(source: IrGraph): IrGraph {
  const graph: IrGraph = { ...source, values: new Map() };
  inferShapes(graph);
  const shapeOf = (name: string): number[] => {
    const v = graph.values.get(name);
    if (!v) throw new Error(`float64 lowering: no shape for '${name}'`);
    return v.shape.map((d) => (typeof d === 'number' ? d : -1));
  };

  const inits = new Map<string, Tensor>();
  for (const [name, t] of source.initializers) inits.set(name, t.dtype === 'float32' ? f64(t.shape, t.data as Float32Array) : t);
  const nodes: IrNode[] = [];
  let uid = 0;
  const fresh = (hint: string) => `__f64_${hint}_${uid++}`;
  const constant = (t: Tensor, hint = 'c') => {
    const name = fresh(hint);
    inits.set(name, t);
    return name;
  };
  const emit = (opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string) => {
    const out = output ?? fresh(opType.toLowerCase());
    nodes.push({ name: out, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  };
  const i64 = (values: number[]) => constant({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) }, 'shape');
  const scalar = (v: number) => constant(f64([], [v]), 's');

  for (const node of source.nodes) {
    const out = node.outputs[0];
    const attrs = node.attributes;
    switch (node.opType) {
      case 'Constant': {
        const v = attrs.value;
        if (v?.type === 'tensor' && v.value.dtype === 'float32') {
          inits.set(out, f64(v.value.shape, v.value.data as Float32Array));
        } else {
          nodes.push(node);
        }
        break;
      }
      case 'Conv':
        lowerConv(node);
        break;
      case 'ConvTranspose':
        lowerConvTranspose(node);
        break;
      case 'AveragePool':
        lowerAveragePool(node);
        break;
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const [, c, ...spatial] = shapeOf(node.inputs[0]);
        const flat = emit('Reshape', [node.inputs[0], i64([0, c, -1])]);
        const size = spatial.reduce((p, d) => p * d, 1);
        let pooled: string;
        if (node.opType === 'GlobalAveragePool') {
          pooled = emit('MatMul', [flat, constant(f64([size, 1], new Array(size).fill(1 / size)))]);
        } else {
          const asImage = emit('Reshape', [flat, i64([0, c, 1, size])]);
          pooled = emit('MaxPool', [asImage], { kernel_shape: { type: 'ints', value: [1, size] } });
        }
        emit('Reshape', [pooled, i64([0, c, ...spatial.map(() => 1)])], {}, out);
        break;
      }
      case 'LeakyRelu': {
        // relu(x) − α·relu(−x)
        const alpha = attrs.alpha?.type === 'float' ? attrs.alpha.value : 0.01;
        const pos = emit('Relu', [node.inputs[0]]);
        const neg = emit('Relu', [emit('Neg', [node.inputs[0]])]);
        emit('Sub', [pos, emit('Mul', [neg, scalar(alpha)])], {}, out);
        break;
      }
      case 'Elu': {
        // relu(x) + α·(exp(−relu(−x)) − 1)
        const alpha = attrs.alpha?.type === 'float' ? attrs.alpha.value : 1;
        const pos = emit('Relu', [node.inputs[0]]);
        const negPart = emit('Neg', [emit('Relu', [emit('Neg', [node.inputs[0]])])]);
        const em1 = emit('Sub', [emit('Exp', [negPart]), scalar(1)]);
        emit('Add', [pos, emit('Mul', [em1, scalar(alpha)])], {}, out);
        break;
      }
      case 'Clip': {
        // lo + relu(x − lo) − relu(x − hi) (Clip has double kernels only from opset 12)
        const num = (i: number, name: string, dflt: number) => {
          if (source.opsetVersion < 11) return attrs[name]?.type === 'float' ? (attrs[name] as { value: number }).value : dflt;
          const t = node.inputs[i] ? source.initializers.get(node.inputs[i]) : undefined;
          return t ? Number(t.data[0]) : dflt;
        };
        const lo = num(1, 'min', -Infinity);
        const hi = num(2, 'max', Infinity);
        let y = node.inputs[0];
        if (Number.isFinite(lo)) y = emit('Add', [emit('Relu', [emit('Sub', [y, scalar(lo)])]), scalar(lo)]);
        if (Number.isFinite(hi)) y = emit('Sub', [y, emit('Relu', [emit('Sub', [y, scalar(hi)])])]);
        emit('Identity', [y], {}, out);
        break;
      }
      case 'Softplus':
        emit('Log', [emit('Add', [emit('Exp', [node.inputs[0]]), scalar(1)])], {}, out);
        break;
      case 'HardSigmoid':
      case 'HardSwish': {
        // clip(αx + β, 0, 1) = relu(z) − relu(z − 1); HardSwish multiplies it by x (α = 1/6, β = 1/2).
        const num = (name: string, dflt: number) => (attrs[name]?.type === 'float' ? (attrs[name] as { value: number }).value : dflt);
        const hard = node.opType === 'HardSwish';
        const z = emit('Add', [emit('Mul', [node.inputs[0], scalar(hard ? 1 / 6 : num('alpha', 0.2))]), scalar(hard ? 0.5 : num('beta', 0.5))]);
        const clipped = emit('Sub', [emit('Relu', [z]), emit('Relu', [emit('Sub', [z, scalar(1)])])]);
        emit(hard ? 'Mul' : 'Identity', hard ? [node.inputs[0], clipped] : [clipped], {}, out);
        break;
      }
      case 'Gelu': {
        // 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))); the exact (erf) form has no float64 building blocks.
        if (attrs.approximate?.type !== 'string' || attrs.approximate.value !== 'tanh') {
          nodes.push(node);
          break;
        }
        const x = node.inputs[0];
        const cube = emit('Mul', [x, emit('Mul', [x, x])]);
        const inner = emit('Mul', [emit('Add', [x, emit('Mul', [cube, scalar(0.044715)])]), scalar(Math.sqrt(2 / Math.PI))]);
        emit('Mul', [emit('Mul', [x, scalar(0.5)]), emit('Add', [emit('Tanh', [inner]), scalar(1)])], {}, out);
        break;
      }
      case 'Cast':
        // Float-to-float casts only (the executor refuses others): the twin stays in float64.
        emit('Identity', [node.inputs[0]], {}, out);
        break;
      default:
        nodes.push(node);
    }
  }

  return {
    ...source,
    inputs: source.inputs.map((v) => ({ ...v, dtype: 'float64' })),
    outputs: source.outputs.map((v) => ({ ...v, dtype: 'float64' })),
    initializers: inits,
    nodes,
    values: new Map(),
  };

  // ---- the rewrites (hoisted; they close over emit/constant/shapeOf) ----

  function window2d(node: IrNode, spatial: number[], kernel: number[]) {
    const r = spatial.length;
    const a = node.attributes;
    const ints = (n: string, d: number[]) => (a[n]?.type === 'ints' ? (a[n] as { value: number[] }).value : d);
    const strides = ints('strides', new Array(r).fill(1));
    const dilations = ints('dilations', new Array(r).fill(1));
    let pads = ints('pads', new Array(2 * r).fill(0));
    const autoPad = a.auto_pad?.type === 'string' ? a.auto_pad.value : 'NOTSET';
    if (autoPad === 'VALID') pads = new Array(2 * r).fill(0);
    if (autoPad.startsWith('SAME')) {
      pads = new Array(2 * r).fill(0);
      for (let i = 0; i < r; i++) {
        const out = Math.ceil(spatial[i] / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
        const lower = autoPad === 'SAME_LOWER' ? Math.ceil(total / 2) : Math.floor(total / 2);
        pads[i] = lower;
        pads[i + r] = total - lower;
      }
    }
    // 1-D ops as 2-D with a unit height.
    if (r === 1) {
      return { h: 1, w: spatial[0], kh: 1, kw: kernel[0], sh: 1, sw: strides[0], dh: 1, dw: dilations[0], pt: 0, pl: pads[0], pb: 0, pr: pads[1] };
    }
    return {
      h: spatial[0], w: spatial[1], kh: kernel[0], kw: kernel[1], sh: strides[0], sw: strides[1],
      dh: dilations[0], dw: dilations[1], pt: pads[0], pl: pads[1], pb: pads[2], pr: pads[3],
    };
  }

  /** y[n, m, oy, ox] = b[m] + Σ_{c in group, ky, kx} W[m, c, ky, kx] · xpad[n, c, oy·sh + ky·dh, ox·sw + kx·dw]. */
  function lowerConv(node: IrNode) {
    const [x, wName, bName] = node.inputs;
    const [, c, ...spatial] = shapeOf(x);
    const W = inits.get(wName)!;
    const [m, cg, ...kernel] = W.shape;
    const group = node.attributes.group?.type === 'int' ? node.attributes.group.value : 1;
    const g = window2d(node, spatial, kernel);
    const hp = g.h + g.pt + g.pb;
    const wp = g.w + g.pl + g.pr;
    const ho = Math.floor((hp - (g.kh - 1) * g.dh - 1) / g.sh) + 1;
    const wo = Math.floor((wp - (g.kw - 1) * g.dw - 1) / g.sw) + 1;
    const img = emit('Reshape', [x, i64([0, c, g.h, g.w])]);
    const padded = emit('Pad', [img, i64([0, 0, g.pt, g.pl, 0, 0, g.pb, g.pr])]);
    const flat = emit('Reshape', [padded, i64([0, c * hp * wp])]);
    const wd = W.data as Float64Array;
    const mg = m / group;
    const k = cg * g.kh * g.kw;
    const parts: string[] = [];
    for (let gi = 0; gi < group; gi++) {
      const idx = new BigInt64Array(ho * wo * k);
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++)
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const row = (oy * wo + ox) * k + (ci * g.kh + ky) * g.kw + kx;
                idx[row] = BigInt((gi * cg + ci) * hp * wp + (oy * g.sh + ky * g.dh) * wp + (ox * g.sw + kx * g.dw));
              }
      const cols = emit('Gather', [flat, constant({ dtype: 'int64', shape: [ho * wo, k], data: idx })], { axis: { type: 'int', value: 1 } });
      const wmat = new Float64Array(k * mg);
      for (let mi = 0; mi < mg; mi++) for (let j = 0; j < k; j++) wmat[j * mg + mi] = wd[(gi * mg + mi) * k + j];
      parts.push(emit('MatMul', [cols, constant(f64([k, mg], wmat))]));
    }
    let y = parts.length === 1 ? parts[0] : emit('Concat', parts, { axis: { type: 'int', value: 2 } });
    if (bName) y = emit('Add', [y, bName]);
    const chw = emit('Transpose', [y], { perm: { type: 'ints', value: [0, 2, 1] } });
    emit('Reshape', [chw, i64([0, m, ...(spatial.length === 1 ? [wo] : [ho, wo])])], {}, node.outputs[0]);
  }

  /** y[n, o, i·s − p + k·d] += x[n, c, i] · W[c, o, k] (per axis), as one dense matrix. */
  function lowerConvTranspose(node: IrNode) {
    const [x, wName, bName] = node.inputs;
    const [, c, ...spatial] = shapeOf(x);
    const W = inits.get(wName)!;
    const [, mg, ...kernel] = W.shape;
    const a = node.attributes;
    const group = a.group?.type === 'int' ? a.group.value : 1;
    const m = mg * group;
    const g = window2d({ ...node, attributes: { ...a, auto_pad: { type: 'string', value: 'NOTSET' } } }, spatial, kernel);
    const outPad = a.output_padding?.type === 'ints' ? a.output_padding.value : spatial.map(() => 0);
    const [oph, opw] = spatial.length === 1 ? [0, outPad[0]] : outPad;
    const ho = g.sh * (g.h - 1) + oph + (g.kh - 1) * g.dh + 1 - g.pt - g.pb;
    const wo = g.sw * (g.w - 1) + opw + (g.kw - 1) * g.dw + 1 - g.pl - g.pr;
    const rows = c * g.h * g.w;
    const colsN = m * ho * wo;
    const mat = new Float64Array(rows * colsN);
    const wd = W.data as Float64Array;
    const cg = c / group;
    for (let ci = 0; ci < c; ci++) {
      const gi = Math.floor(ci / cg);
      for (let i = 0; i < g.h; i++)
        for (let j = 0; j < g.w; j++)
          for (let o = 0; o < mg; o++)
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const oy = i * g.sh - g.pt + ky * g.dh;
                const ox = j * g.sw - g.pl + kx * g.dw;
                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                const row = (ci * g.h + i) * g.w + j;
                const col = ((gi * mg + o) * ho + oy) * wo + ox;
                mat[row * colsN + col] += wd[((ci * mg + o) * g.kh + ky) * g.kw + kx];
              }
    }
    const flat = emit('Reshape', [x, i64([0, rows])]);
    let y = emit('Reshape', [emit('MatMul', [flat, constant(f64([rows, colsN], mat))]), i64([0, m, ...(spatial.length === 1 ? [wo] : [ho, wo])])]);
    if (bName) y = emit('Add', [y, emit('Reshape', [bName, i64([m, ...spatial.map(() => 1)])])]);
    emit('Identity', [y], {}, node.outputs[0]);
  }

  /** Window sums over the zero-padded input divided by how many counted positions each window covers. */
  function lowerAveragePool(node: IrNode) {
    const x = node.inputs[0];
    const [, c, ...spatial] = shapeOf(x);
    const a = node.attributes;
    const kernel = (a.kernel_shape as { value: number[] }).value;
    const g = window2d(node, spatial, kernel);
    const ceil = a.ceil_mode?.type === 'int' && a.ceil_mode.value === 1;
    const includePad = a.count_include_pad?.type === 'int' && a.count_include_pad.value === 1;
    const size = (n: number, k: number, s: number, p0: number, p1: number) => {
      const span = n + p0 + p1 - k;
      if (!ceil) return Math.floor(span / s) + 1;
      let out = Math.ceil(span / s) + 1;
      if ((out - 1) * s >= n + p0) out--;
      return out;
    };
    const ho = size(g.h, g.kh, g.sh, g.pt, g.pb);
    const wo = size(g.w, g.kw, g.sw, g.pl, g.pr);
    // pad enough on the far side for ceil-mode windows
    const extraB = Math.max(0, (ho - 1) * g.sh + g.kh - (g.h + g.pt + g.pb));
    const extraR = Math.max(0, (wo - 1) * g.sw + g.kw - (g.w + g.pl + g.pr));
    const hp = g.h + g.pt + g.pb + extraB;
    const wp = g.w + g.pl + g.pr + extraR;
    const img = emit('Reshape', [x, i64([0, c, g.h, g.w])]);
    const padded = emit('Pad', [img, i64([0, 0, g.pt, g.pl, 0, 0, g.pb + extraB, g.pr + extraR])]);
    const flat = emit('Reshape', [padded, i64([0, c, hp * wp])]);
    const k = g.kh * g.kw;
    const idx = new BigInt64Array(ho * wo * k);
    const counts = new Float64Array(ho * wo);
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const py = oy * g.sh + ky;
            const px = ox * g.sw + kx;
            idx[(oy * wo + ox) * k + ky * g.kw + kx] = BigInt(py * wp + px);
            const iy = py - g.pt;
            const ix = px - g.pl;
            const inside = includePad
              ? iy >= -g.pt && iy < g.h + g.pb && ix >= -g.pl && ix < g.w + g.pr
              : iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
            if (inside) counts[oy * wo + ox]++;
          }
    const windows = emit('Gather', [flat, constant({ dtype: 'int64', shape: [ho * wo, k], data: idx })], { axis: { type: 'int', value: 2 } });
    const sums = emit('MatMul', [windows, constant(f64([k, 1], new Array(k).fill(1)))]);
    const means = emit('Div', [emit('Reshape', [sums, i64([0, c, ho * wo])]), constant(f64([ho * wo], counts))]);
    emit('Reshape', [means, i64([0, c, ...(spatial.length === 1 ? [wo] : [ho, wo])])], {}, node.outputs[0]);
  }
}

function f64(shape: number[], data: ArrayLike<number>): Tensor {
  return { dtype: 'float64', shape: [...shape], data: Float64Array.from(data) };
}
