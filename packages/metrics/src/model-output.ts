import { forward, targetOutputs, type LoadedModel, type OutputKind, type RowBudget, type Tensor } from '@blameboard/core';

export type { OutputKind } from '@blameboard/core';

/** f_t per row: the target's logit (or probability) of every input row. */
export type TargetScorer = (inputs: Tensor, targets: Int32Array) => Promise<Float64Array>;

/** A scorer running the model's own ONNX on onnxruntime (inputs validated on every call). */
export function modelScorer(model: LoadedModel, output: OutputKind, budget: RowBudget = {}): TargetScorer {
  return async (inputs, targets) => pickTargets(await forward(model, inputs, { output, ...budget }), targets);
}

/**
 * modelScorer for rows the caller built from inputs it has already validated (finite, the
 * model's shape and dtype), e.g. selectivity's perturbed copies with a finite fill. Hot path: each
 * onnxruntime run reads a view of `inputs` (no validation scan, slice or concatenation copies) and
 * only the target's output is computed, with the one softmax's arithmetic, so the numbers are
 * modelScorer's bit for bit.
 */
export function validatedRowsScorer(model: LoadedModel, output: OutputKind, budget: RowBudget = {}): TargetScorer {
  return (inputs, targets) => targetOutputs(model, inputs, targets, { output, ...budget });
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

export async function predictClasses(model: LoadedModel, inputs: Tensor, budget: RowBudget = {}): Promise<Int32Array> {
  return argmaxRows(await forward(model, inputs, { output: 'logit', ...budget }));
}
