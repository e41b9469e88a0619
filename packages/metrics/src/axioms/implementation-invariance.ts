import type { LoadedModel, ParamSpec, Tensor } from '@blameboard/core';
import { forward, InputError, sizeOf, UsageError } from '@blameboard/core';
import type { DataContext } from '@blameboard/methods';
import { equivalentPairs, resolveModel } from '@blameboard/models';
import { aggregate, InvalidSamples } from '../aggregate.js';
import { methodExplainer, type MethodConfig } from '../explainer.js';
import { budgetOf, requireMethod } from '../request.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

/** Largest |f_A − f_B| over the logits allowed before two models count as different functions. */
export const EQUIVALENCE_TOLERANCE = 1e-4;

/** ‖R_A − R_B‖₁ / (½(‖R_A‖₁ + ‖R_B‖₁) + 1e-12) per sample. */
export function relativeL1(a: Tensor, b: Tensor): Float64Array {
  const n = a.shape[0];
  const d = sizeOf(a.shape.slice(1));
  const ra = a.data as Float32Array;
  const rb = b.data as Float32Array;
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let diff = 0;
    let na = 0;
    let nb = 0;
    for (let i = s * d; i < (s + 1) * d; i++) {
      diff += Math.abs(ra[i] - rb[i]);
      na += Math.abs(ra[i]);
      nb += Math.abs(rb[i]);
    }
    out[s] = diff / (0.5 * (na + nb) + 1e-12);
  }
  return out;
}

/** The inputs laid out for a model whose input has the same number of features (flat ↔ NCHW). */
function asModelInput(inputs: Tensor, model: LoadedModel): Tensor {
  const shape = model.inputShape;
  if (sizeOf(shape) !== sizeOf(inputs.shape.slice(1))) {
    throw new InputError(
      `model '${model.id}' takes inputs of shape [${shape.join(',')}] but the samples have shape [${inputs.shape.slice(1).join(',')}]`,
    );
  }
  return { dtype: inputs.dtype, shape: [inputs.shape[0], ...shape], data: inputs.data };
}

export interface EquivalentPairRequest {
  id: string;
  a: LoadedModel;
  b: LoadedModel;
  inputs: Tensor;
  targets: Int32Array;
  method: MethodConfig;
  data?: DataContext;
  batchSize?: number;
  memory?: number;
}

/**
 * Relative L1 between the method's maps on two networks computing the same function. The
 * equivalence is checked first on these very inputs (max |f_A − f_B| ≤ 1e-4 over the logits), so
 * a difference in the maps can only come from the method.
 */
export async function comparePair(req: EquivalentPairRequest): Promise<Float64Array> {
  const xa = asModelInput(req.inputs, req.a);
  const xb = asModelInput(req.inputs, req.b);
  const budget = budgetOf(req);
  const fa = await forward(req.a, xa, { output: 'logit', ...budget });
  const fb = await forward(req.b, xb, { output: 'logit', ...budget });
  if (fa.data.length !== fb.data.length) {
    throw new InputError(`pair '${req.id}': '${req.a.id}' has ${fa.shape[1]} outputs but '${req.b.id}' has ${fb.shape[1]}`);
  }
  let worst = 0;
  for (let i = 0; i < fa.data.length; i++) {
    const gap = Math.abs((fa.data[i] as number) - (fb.data[i] as number));
    if (!(gap <= worst)) worst = gap;
  }
  if (!(worst <= EQUIVALENCE_TOLERANCE)) {
    throw new InputError(
      `pair '${req.id}': '${req.a.id}' and '${req.b.id}' do not compute the same function on these inputs (max |f_A − f_B| = ${worst.toExponential(3)} > ${EQUIVALENCE_TOLERANCE})`,
    );
  }
  const ra = await methodExplainer(req.a, req.method, req.data, budget)(xa, req.targets);
  const rb = await methodExplainer(req.b, req.method, req.data, budget)(xb, req.targets);
  return relativeL1(ra.attributions, rb.attributions);
}

/**
 * Zoo pairs to use: the named one; else every pair of the dataset (SPEC §4); else, when the
 * dataset is unknown, every pair containing the model.
 */
export function choosePairs(pair: string | undefined, modelId: string, dataset: string | undefined): { id: string; a: string; b: string }[] {
  const known = () => equivalentPairs.map((p) => p.id).join(', ') || '(none)';
  if (pair !== undefined) {
    const found = equivalentPairs.find((p) => p.id === pair);
    if (!found) throw new UsageError(`unknown equivalent pair '${pair}'; known pairs: ${known()}`);
    return [found];
  }
  const ofDataset = dataset ? equivalentPairs.filter((p) => p.dataset === dataset) : [];
  if (ofDataset.length) return ofDataset;
  const withModel = dataset ? [] : equivalentPairs.filter((p) => p.a === modelId || p.b === modelId);
  if (withModel.length) return withModel;
  throw new UsageError(
    `implementation-invariance needs an equivalent pair: none ${dataset ? `fits dataset '${dataset}'` : `contains model '${modelId}'`}; pass params {"pair": …} with one of: ${known()}`,
  );
}

/** Zoo models of the pairs, loaded once per process. */
const zooModels = new Map<string, Promise<LoadedModel>>();
function zooModel(id: string): Promise<LoadedModel> {
  let m = zooModels.get(id);
  if (!m) {
    m = resolveModel(id);
    zooModels.set(id, m);
    m.catch(() => zooModels.delete(id));
  }
  return m;
}

const params: ParamSpec[] = [
  { name: 'pair', type: 'string', description: 'zoo pair id (default: every pair of the dataset; without a dataset, every pair containing the model)' },
];

export const implementationInvariance: Metric = {
  id: 'implementation-invariance',
  description: 'implementation invariance: relative L1 between the maps of two networks computing the same function (Sundararajan et al. 2017)',
  needs: 'method',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const method = requireMethod(request, 'implementation-invariance');
    const seed = request.seed ?? 0;
    let pairs = request.pairs;
    if (!pairs) {
      const chosen = choosePairs(request.params.pair as string | undefined, request.model.id, request.data?.name);
      const load = (id: string) => (id === request.model.id ? Promise.resolve(request.model) : zooModel(id));
      pairs = [];
      for (const p of chosen) pairs.push({ id: p.id, a: await load(p.a), b: await load(p.b) });
    }
    const n = request.inputs.shape[0];
    const total = new Float64Array(n);
    for (const pair of pairs) {
      const d = await comparePair({ ...pair, inputs: request.inputs, targets: request.targets, method, data: request.data, batchSize: request.batchSize, memory: request.memory });
      for (let s = 0; s < n; s++) total[s] += d[s] / pairs.length;
    }
    const invalid = new InvalidSamples();
    const values = { relativeL1: aggregate('relativeL1', total, 'lower', { seed, invalid }) };
    const list = invalid.list();
    return {
      metric: 'implementation-invariance',
      params: request.params,
      values,
      ...(list.length ? { invalid: list } : {}),
    };
  },
};
