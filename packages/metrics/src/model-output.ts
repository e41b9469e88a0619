import type { LoadedModel, Tensor, TypedArray } from '@blameboard/core';
import { forward, logitSession, sizeOf } from '@blameboard/core';

export type OutputKind = 'logit' | 'probability';

/** f_t per row: the target's logit (or probability) of every input row. */
export type TargetScorer = (inputs: Tensor, targets: Int32Array) => Promise<Float64Array>;

/** A scorer running the model's own ONNX on onnxruntime, `batchSize` rows per run. */
export function modelScorer(model: LoadedModel, output: OutputKind, batchSize = 256): TargetScorer {
  return async (inputs, targets) => pickTargets(await forward(model, inputs, { output, batchSize }), targets);
}

/**
 * modelScorer for rows the caller built from inputs it has already validated (finite, the
 * model's shape and dtype), e.g. selectivity's perturbed copies with a finite fill. Hot path: each
 * onnxruntime run reads a view of `inputs` (no validation scan, slice or concatenation copies) and
 * only the target's output is computed, with exactly softmaxRows' arithmetic, so the numbers are
 * modelScorer's bit for bit. Models with a fixed batch or a non-float32 input take forward().
 */
export function validatedRowsScorer(model: LoadedModel, output: OutputKind, batchSize = 256): TargetScorer {
  const fallback = modelScorer(model, output, batchSize);
  return async (inputs, targets) => {
    const session = await logitSession(model);
    if (session.fixedBatch !== undefined || inputs.dtype !== 'float32' || (model.inputDtype ?? 'float32') !== 'float32') {
      return fallback(inputs, targets);
    }
    const n = inputs.shape[0];
    const sampleShape = inputs.shape.slice(1);
    const rowSize = sizeOf(sampleShape);
    const size = Math.max(1, Math.floor(batchSize));
    const data = inputs.data as Float32Array;
    const outName = session.outputNames[0];
    const out = new Float64Array(n);
    for (let start = 0; start < n; start += size) {
      const rows = Math.min(size, n - start);
      const view: Tensor = { dtype: 'float32', shape: [rows, ...sampleShape], data: data.subarray(start * rowSize, (start + rows) * rowSize) };
      const y = (await session.run({ [model.inputName]: view }))[outName];
      const c = y.shape.length <= 1 ? 1 : sizeOf(y.shape.slice(1));
      targetOutputs(y.data, c, output === 'probability' && c > 1, targets, start, rows, out);
    }
    return out;
  };
}

/**
 * out[start + i] = f_t of output row i: the logit as forward() stores it (float32) or its softmax
 * probability computed as softmaxRows does (max shift, sum in class order, float32 result).
 */
function targetOutputs(output: TypedArray, c: number, probability: boolean, targets: Int32Array, start: number, rows: number, out: Float64Array): void {
  const y = output instanceof Float32Array ? output : Float32Array.from(output as ArrayLike<number>);
  for (let i = 0; i < rows; i++) {
    const at = i * c;
    const t = targets[start + i];
    if (!probability) {
      out[start + i] = y[at + t];
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, y[at + j]);
    let sum = 0;
    let target = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(y[at + j] - max);
      sum += e;
      if (j === t) target = e;
    }
    out[start + i] = Math.fround(target / sum);
  }
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
