import { runRows, streamRows, type LoadedModel, type RowBudget, type Tensor } from '@blameboard/core';
import { compiledHandle, float32Feed, oneHot, type CompiledHandle } from './compiled.js';
import { gradientRules } from './rules/gradient/index.js';

/** The plain gradient graph of a model (shared by gradient, gradient×input, IG and SmoothGrad). */
export function gradientHandle(model: LoadedModel, methodId: string): Promise<CompiledHandle> {
  return compiledHandle(model, methodId, 'gradient', () => gradientRules(), { start: 'seed-input' });
}

export interface GradientRows {
  model: LoadedModel;
  methodId: string;
  rows: number;
  budget?: RowBudget;
  /** Writes row `row`'s input and returns its target. */
  fill(row: number, x: Float32Array): number;
  /** Receives ∇f_t at row `row` and the row's logits. */
  consume(row: number, gradient: Float32Array, logits: Float32Array): void;
}

/** ∇f_t at arbitrary derived inputs, streamed through the compiled gradient graph in bounded runs. */
export async function streamGradients(r: GradientRows): Promise<void> {
  const handle = await gradientHandle(r.model, r.methodId);
  const { input, seed } = handle.meta.inputNames;
  const classes = r.model.outputSize;
  await streamRows(handle, {
    inputs: [
      { name: input, shape: r.model.inputShape },
      { name: seed, shape: [classes] },
    ],
    rows: r.rows,
    budget: r.budget,
    fill: (row, [x, s]) => {
      s[r.fill(row, x)] = 1;
    },
    consume: (row, out) => r.consume(row, out[handle.meta.outputNames[0]], out[handle.meta.logits]),
  });
}

/** ∂f_{t_n}/∂x_n for every sample, and the logits (the gradient graph outputs them alongside). */
export async function inputGradients(
  model: LoadedModel,
  inputs: Tensor,
  targets: Int32Array,
  methodId: string,
  budget?: RowBudget,
): Promise<{ gradients: Tensor; logits: Tensor }> {
  const handle = await gradientHandle(model, methodId);
  const { input, seed } = handle.meta.inputNames;
  const gradName = handle.meta.outputNames[0];
  const n = inputs.shape[0];
  const classes = model.outputSize;
  let grads: Float32Array | undefined;
  let logits: Float32Array | undefined;
  await runRows(handle, {
    feeds: { [input]: float32Feed(inputs), [seed]: oneHot(targets, classes) },
    rows: n,
    budget,
    consume: (start, count, out) => {
      const g = out[gradName].data as Float32Array;
      const l = out[handle.meta.logits].data as Float32Array;
      // One run (the usual case): the session's fresh outputs are the result, uncopied.
      if (count === n && g.length === inputs.data.length) {
        grads = g;
        logits = l;
        return;
      }
      (grads ??= new Float32Array(inputs.data.length)).set(g, start * (g.length / count));
      (logits ??= new Float32Array(n * classes)).set(l, start * classes);
    },
  });
  return {
    gradients: { dtype: 'float32', shape: [...inputs.shape], data: grads! },
    logits: { dtype: 'float32', shape: [n, classes], data: logits! },
  };
}
