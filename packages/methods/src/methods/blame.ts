import {
  forward,
  linearLayers,
  sizeOf,
  softmaxInto,
  streamRows,
  UsageError,
  type BackwardRule,
  type IrNode,
  type LoadedModel,
  type RowBudget,
  type RuleSet,
  type Tensor,
} from '@blameboard/core';
import { staticDims } from '../rules/attributes.js';
import { compiledHandle, requireGraph } from '../compiled.js';
import { GRADIENT_RULES, ruleFromTable } from '../rules/gradient/index.js';
import { reluMaxPoolGradients } from '../rules/gradient/relu-maxpool.js';
import type { AttributionMethod } from '../types.js';

/**
 * The first linear layer's adjoint with every weight set to 1: input i receives Σ_j δ¹_j over
 * the units j it is connected to (all units of a dense layer; for a conv, every output position
 * whose window covers i, in every output channel of its group). Runs the layer's own gradient
 * rule on a ones tensor shaped like its weight, so strides, pads and groups follow for free.
 */
const connectedSum: BackwardRule = (ctx) => {
  const { node, b } = ctx;
  const wShape = staticDims(node, b.shapeOf(node.inputs[1]), 'the weight');
  const ones = b.constant({ dtype: 'float32', shape: wShape, data: new Float32Array(sizeOf(wShape)).fill(1) }, 'bb_blame_ones');
  const withOnes: IrNode = { ...node, inputs: [node.inputs[0], ones, ...node.inputs.slice(2)] };
  return GRADIENT_RULES[node.opType]({ ...ctx, node: withOnes });
};

function blameRules(): RuleSet {
  const table = { ...GRADIENT_RULES, ...reluMaxPoolGradients() };
  return {
    ruleFor: (node, linearIndex) => (linearIndex === 0 ? connectedSum : ruleFromTable(table, node)),
  };
}

/** Softmax of [n, C] logits, in float64 (the prior is averaged over many rows). */
function probabilities(logits: Tensor): Float64Array {
  const out = new Float64Array(logits.data.length);
  softmaxInto(logits.data as Float32Array, logits.shape[1], out);
  return out;
}

/** p̄ per sample: the mean softmax over the reference set (`dataset`), or the sample's own (`prediction`). */
async function priors(model: LoadedModel, inputs: Tensor, prior: string, reference: Tensor | undefined, budget: RowBudget): Promise<Float64Array> {
  const c = model.outputSize;
  const n = inputs.shape[0];
  if (prior === 'prediction') return probabilities(await forward(model, inputs, budget));
  const ref = reference ?? inputs;
  const p = probabilities(await forward(model, ref, budget));
  const mean = new Float64Array(c);
  for (let r = 0; r < ref.shape[0]; r++) for (let k = 0; k < c; k++) mean[k] += p[r * c + k] / ref.shape[0];
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) out.set(mean, i * c);
  return out;
}

/**
 * Blame (seed 000): back-propagate the output error δ = p̄ − onehot(t) to the first linear
 * layer's pre-activations δ¹ and score input i by −x_i Σ_{j connected to i} δ¹_j — minus the sum
 * of the cross-entropy gradients on the weights leaving input i.
 */
export const blame: AttributionMethod = {
  id: 'blame',
  description: 'seed 000: −x_i Σ_j δ¹_j, the negated weight gradients of the output error p̄ − onehot(t) at the first linear layer',
  kind: 'compiled',
  params: [
    { name: 'prior', type: 'string', description: 'p̄: mean softmax over the reference set (dataset) or the sample’s own softmax (prediction)', default: 'dataset', choices: ['dataset', 'prediction'] },
    { name: 'reference', type: 'string', description: 'dataset whose samples form the dataset prior (the runner loads it into data.reference); default: the explained inputs' },
  ],
  async explain({ model, inputs, targets, params, data, batchSize, memory }) {
    const graph = requireGraph(model, 'blame');
    const first = linearLayers(graph)[0];
    if (!first) throw new UsageError(`method 'blame' needs a linear layer (Conv/Gemm/MatMul) and model '${model.id}' has none`);
    const handle = await compiledHandle(model, 'blame', 'blame', blameRules, { start: 'seed-input', attributionOf: first.inputs[0] });
    const layerInput = graph.values.get(first.inputs[0]) ?? graph.inputs.find((v) => v.name === first.inputs[0]);
    const per = sizeOf(inputs.shape.slice(1));
    const layerPer = layerInput ? sizeOf(layerInput.shape.slice(1).map((d) => (typeof d === 'number' ? d : NaN))) : NaN;
    if (layerPer !== per) {
      throw new UsageError(`method 'blame' needs the first linear layer to read the input (reshaped at most); '${first.name}' reads ${layerPer} values per sample, the input has ${per}`);
    }
    const c = model.outputSize;
    const p = await priors(model, inputs, params.prior as string, data?.reference, { batchSize, memory });
    const { input, seed } = handle.meta.inputNames;
    const x = inputs.data as Float32Array;
    const out = new Float32Array(x.length);
    await streamRows(handle, {
      inputs: [
        { name: input, shape: model.inputShape },
        { name: seed, shape: [c] },
      ],
      rows: inputs.shape[0],
      budget: { batchSize, memory },
      fill: (row, [xRow, s]) => {
        xRow.set(x.subarray(row * per, (row + 1) * per));
        for (let k = 0; k < c; k++) s[k] = p[row * c + k] - (k === targets[row] ? 1 : 0);
      },
      consume: (row, o) => {
        const connected = o[handle.meta.outputNames[0]];
        for (let j = 0; j < per; j++) out[row * per + j] = -x[row * per + j] * connected[j];
      },
    });
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
