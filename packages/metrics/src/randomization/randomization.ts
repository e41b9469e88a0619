import type { LoadedModel, ParamSpec, Tensor } from '@blameboard/core';
import { linearLayers, loadModel, Rng, sizeOf, UsageError, writeOnnx } from '@blameboard/core';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { methodExplainer } from '../explainer.js';
import { spearman } from './rank.js';
import { reinitializeLayer } from './randomize-layers.js';
import { budgetOf, requireAttributions, requireMethod } from '../request.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

/**
 * The cascade of Adebayo et al. 2018: models with the top 1, 2, …, all linear layers
 * re-initialised (cumulatively, from the output down). Each layer is redrawn once, from
 * Rng(seed) in cascade order, and keeps its random weights in the later stages.
 */
export async function* randomizationCascade(model: LoadedModel, seed: number): AsyncGenerator<{ layer: string; model: LoadedModel }> {
  if (!model.graph) {
    throw new UsageError(
      `randomization rewrites the model's layers, but model '${model.id}' uses operators the IR cannot model: ${model.unsupported.map((o) => o.opType).join(', ')}`,
    );
  }
  const layers = linearLayers(model.graph).reverse();
  if (layers.length === 0) throw new UsageError(`randomization: model '${model.id}' has no linear layer to re-initialise`);
  const rng = new Rng(seed);
  let graph = model.graph;
  for (let i = 0; i < layers.length; i++) {
    graph = reinitializeLayer(graph, layers[i], rng);
    const bytes = writeOnnx(graph);
    yield { layer: layers[i].name, model: await loadModel({ bytes, id: `${model.id}~randomized-top-${i + 1}` }) };
  }
}

/** |ρ_Spearman| per sample between two batches of maps. */
export function rankCorrelations(a: Tensor, b: Tensor): Float64Array {
  const n = a.shape[0];
  const d = sizeOf(a.shape.slice(1));
  const ra = a.data as Float32Array;
  const rb = b.data as Float32Array;
  return Float64Array.from({ length: n }, (_, s) => Math.abs(spearman(ra.subarray(s * d, (s + 1) * d), rb.subarray(s * d, (s + 1) * d))));
}

const params: ParamSpec[] = [
  { name: 'layers', type: 'string', default: 'cascading', choices: ['cascading'], description: 'which layers are re-initialised: cumulatively from the output down' },
];

export const randomization: Metric = {
  id: 'randomization',
  description:
    'model-parameter randomization (Adebayo et al. 2018): |Spearman ρ| between the maps of the model and of its cascade of top-down re-initialised copies',
  needs: 'method',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const method = requireMethod(request, 'randomization');
    const seed = request.seed ?? 0;
    const n = request.inputs.shape[0];
    const invalid = new InvalidSamples();
    const original = request.attributions
      ? requireAttributions(request, 'randomization')
      : (await methodExplainer(request.model, method, request.data, budgetOf(request))(request.inputs, request.targets)).attributions;
    markNonFiniteAttributions(original, invalid);
    const total = new Float64Array(n);
    let stages = 0;
    for await (const stage of randomizationCascade(request.model, seed)) {
      const { attributions } = await methodExplainer(stage.model, method, request.data, budgetOf(request))(request.inputs, request.targets);
      markNonFiniteAttributions(attributions, invalid, `attribution after re-initialising down to layer '${stage.layer}'`);
      const rho = rankCorrelations(original, attributions);
      for (let s = 0; s < n; s++) total[s] += rho[s];
      stages++;
    }
    for (let s = 0; s < n; s++) total[s] /= stages;
    const values = { rankCorrelation: aggregate('rankCorrelation', total, 'lower', { seed, invalid }) };
    const list = invalid.list();
    return { metric: 'randomization', params: request.params, values, ...(list.length ? { invalid: list } : {}) };
  },
};
