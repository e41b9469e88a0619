import type { LoadedModel, Tensor } from '@blameboard/core';
import { forward } from '@blameboard/core';

export type OutputKind = 'logit' | 'probability';

/** f_t per row: the target's logit (or probability) of every input row. */
export type TargetScorer = (inputs: Tensor, targets: Int32Array) => Promise<Float64Array>;

/** A scorer running the model's own ONNX on onnxruntime, `batchSize` rows per run. */
export function modelScorer(model: LoadedModel, output: OutputKind, batchSize = 256): TargetScorer {
  return async (inputs, targets) => pickTargets(await forward(model, inputs, { output, batchSize }), targets);
}

export function pickTargets(outputs: Tensor, targets: Int32Array): Float64Array {
  const [n, c] = outputs.shape;
  const data = outputs.data as Float32Array;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * c + targets[i]];
  return out;
}

/** argmax per row, first maximum on ties. */
export function argmaxRows(outputs: Tensor): Int32Array {
  const [n, c] = outputs.shape;
  const data = outputs.data as Float32Array;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (data[i * c + j] > data[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}

export async function predictClasses(model: LoadedModel, inputs: Tensor, batchSize = 256): Promise<Int32Array> {
  return argmaxRows(await forward(model, inputs, { output: 'logit', batchSize }));
}
