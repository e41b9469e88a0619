import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (so a CNN cannot train on it), and its
 * Conv2DBackpropInput is a plain loop ~10× slower than its XNNPACK forward Conv2D. Both gradients
 * of a stride-1 convolution are themselves convolutions, so we register them as a few wasm kernel
 * calls (Pad, Reverse, Transpose, Conv2D) and keep the whole training step on XNNPACK:
 *   dW[kh,kw,ci,co] = Σ_{n,i,j} xpad[n, i+kh, j+kw, ci] · dy[n,i,j,co]
 *                   = conv2d(xpadᵀ [ci,H,W,n], dyᵀ [i,j,n,co])ᵀ
 *   dX = conv2d(pad(dy, k−1−p), W rotated 180° with in/out swapped)
 * (a forward stride s becomes a dilation s of dy in the filter gradient). The input gradient of
 * other strides falls back to the backend's own loop. (Its Conv3DBackpropFilterV2 over a depth of
 * 1 was tried for strided filter gradients and disagrees with the cpu backend: not used.)
 * Measured numbers are in docs/decisions.md.
 */

type AnyBackend = { disposeData(dataId: object): void };
type Call = (name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo;

function caller(backend: AnyBackend, temps: TensorInfo[]): Call {
  return (name, inputs, attrs) => {
    const kernel = getKernel(name, 'wasm');
    if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: backend as never }) as TensorInfo;
    temps.push(out);
    return out;
  };
}

function releaseExcept(backend: AnyBackend, temps: TensorInfo[], keep: TensorInfo): void {
  for (const t of temps) if (t !== keep) backend.disposeData(t.dataId);
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function isUnitStride(a: ConvAttrs): boolean {
  const [sh, sw] = pair(a.strides);
  return sh === 1 && sw === 1 && a.dataFormat === 'NHWC';
}

const CONV = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 } as unknown as NamedAttrMap;

function filterGrad(): KernelFunc {
  return (args) => {
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
    const [sh, sw] = pair(attrs.strides);
    const backend = args.backend as unknown as AnyBackend;
    const temps: TensorInfo[] = [];
    const call = caller(backend, temps);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      [sh, sw],
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { top, bottom, left, right } = info.padInfo;
    let xp = x;
    if (top || bottom || left || right) {
      xp = call('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 } as never);
    }
    const xt = call('Transpose', { x: xp }, { perm: [3, 1, 2, 0] });
    const dyt = call('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    // A stride s of the forward conv is a dilation s of dy used as the filter here.
    let w = call('Conv2D', { x: xt, filter: dyt }, { ...CONV, dilations: [sh, sw] } as never);
    const [kh, kw, ci, co] = attrs.filterShape;
    if (w.shape[1] !== kh || w.shape[2] !== kw) {
      w = call('Slice', { x: w }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
    }
    const out = call('Transpose', { x: w }, { perm: [1, 2, 0, 3] });
    releaseExcept(backend, temps, out);
    return out;
  };
}

function inputGrad(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    if (!isUnitStride(attrs)) return fallback(args);
    const backend = args.backend as unknown as AnyBackend;
    const temps: TensorInfo[] = [];
    const call = caller(backend, temps);
    const [kh, kw] = filter.shape as number[];
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      1,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { top, bottom, left, right } = info.padInfo;
    const paddings = [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]];
    const dyp = call('PadV2', { x: dy }, { paddings, constantValue: 0 } as never);
    const flipped = call('Reverse', { x: filter }, { dims: [0, 1] });
    const wt = call('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    const out = call('Conv2D', { x: dyp, filter: wt }, CONV);
    releaseExcept(backend, temps, out);
    return out;
  };
}

let installed = false;

/** Registers the two gradient kernels on the wasm backend (idempotent). */
export function registerWasmConvGradients(): void {
  if (installed) return;
  installed = true;
  const originalInput = getKernel('Conv2DBackpropInput', 'wasm');
  if (!originalInput) throw new Error('tfjs-backend-wasm must be imported before registering its conv gradients');
  const replace = (config: KernelConfig): void => {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  };
  replace({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: filterGrad() });
  replace({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: inputGrad(originalInput.kernelFunc),
    setupFunc: originalInput.setupFunc,
  });
}
