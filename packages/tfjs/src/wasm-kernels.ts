import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tf } from './tf-namespace.js';

/**
 * Kernel fixes for @tensorflow/tfjs-backend-wasm 4.22.0.
 *
 * Its MaxPoolGrad is wrong whenever every value in a pooling window is negative: the gradient
 * lands on the window's first element instead of its maximum (it behaves as if the running max
 * started at 0). Measured: windows (−0.5, −0.2) and (−3, −4) get gradient [1, 0, 0, 0] instead of
 * [0, 1, 1, 0]; the cpu backend is right. Models with MaxPool on negative values (no ReLU
 * before it, or padding filled with −∞) then get wrong input gradients, and tfjs-layers training
 * on wasm gets wrong weight updates. This JS kernel replaces it, on the wasm backend's own memory.
 */

interface WasmLikeBackend {
  readSync(dataId: object): TfCore.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: TfCore.DataType): TfCore.TensorInfo;
  typedArrayFromHeap(t: TfCore.TensorInfo): TfCore.backend_util.TypedArray;
}

/**
 * dx for max pooling, NHWC: each window's dy goes to its first maximal element (tfjs cpu,
 * onnxruntime and PyTorch pick the same one).
 */
function maxPoolGrad(tf: Tf): TfCore.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TfCore.TensorInfo; input: TfCore.TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as TfCore.MaxPoolGradAttrs;
    const b = backend as unknown as WasmLikeBackend;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const x = b.readSync(input.dataId) as Float32Array;
    const g = b.readSync(dy.dataId) as Float32Array;
    const dxInfo = b.makeOutput(input.shape, 'float32');
    const dx = b.typedArrayFromHeap(dxInfo) as Float32Array;
    dx.fill(0);
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
    const { strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
    const { top, left } = info.padInfo;
    for (let n = 0; n < batchSize; n++) {
      const xBase = n * inHeight * inWidth * channels;
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          const gBase = ((n * outHeight + oy) * outWidth + ox) * channels;
          for (let c = 0; c < channels; c++) {
            let best = -Infinity;
            let at = -1;
            for (let ky = 0; ky < filterHeight; ky++) {
              const y = oy * strideHeight - top + ky * dilationHeight;
              if (y < 0 || y >= inHeight) continue;
              for (let kx = 0; kx < filterWidth; kx++) {
                const xx = ox * strideWidth - left + kx * dilationWidth;
                if (xx < 0 || xx >= inWidth) continue;
                const i = xBase + (y * inWidth + xx) * channels + c;
                if (at < 0 || x[i] > best) {
                  best = x[i];
                  at = i;
                }
              }
            }
            if (at >= 0) dx[at] += g[gBase + c];
          }
        }
      }
    }
    return dxInfo;
  };
}

let patched = false;

/** Replaces the faulty wasm kernels (idempotent). */
export function patchWasmKernels(tf: Tf): void {
  if (patched) return;
  const has = tf.getKernelsForBackend('wasm').some((k) => k.kernelName === 'MaxPoolGrad');
  if (has) tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad(tf) });
  patched = true;
}
