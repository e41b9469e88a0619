import { BATCH_NORM_MERGES, type BatchNormMerge, type ParamSpec } from '@blameboard/core';
import { compositeMap, LRP_COMPOSITES, LRP_RULES, parseLayerRules } from '../rules/lrp/composites.js';
import { MAXPOOL_MODES, type MaxPoolMode } from '../rules/lrp/maxpool.js';
import { BIAS_MODES, GATE_MODES, type BiasMode, type GateMode, type LrpSettings } from '../rules/lrp/ruleset.js';
import type { AttributionMethod } from '../types.js';
import { explainWithLrp, resolveBounds, ruleParams } from './lrp-explain.js';

/** How relevance crosses products and residual sums no layer rule covers (see GateMode). */
export const gatesParam: ParamSpec = {
  name: 'gates',
  type: 'string',
  description:
    "constant: a product's gate is a constant weight of the signal it scales and sums use the ε rule (conservation holds); gradient: Zennit 0.5.1's modified gradient through products (product rule) and sums outside ResNet blocks",
  default: 'constant',
  choices: [...GATE_MODES],
};

export const lrpParams: ParamSpec[] = [
  { name: 'composite', type: 'string', description: 'which rule on which linear layer (Zennit 0.5.1 composites)', default: 'epsilon-gamma-box', choices: [...LRP_COMPOSITES] },
  { name: 'epsilon', type: 'number', description: 'ε of the epsilon rule (0: LRP-0; at most 1e6)', default: 1e-6, min: 0, max: 1e6 },
  { name: 'gamma', type: 'number', description: 'γ of the gamma rule (at most 1e6: beyond, z-plus is reached and float32 overflows)', default: 0.25, min: 0, max: 1e6 },
  { name: 'alpha', type: 'number', description: 'α of the alpha-beta rule (α − β = 1; at most 1e6)', default: 2, min: 0, max: 1e6 },
  { name: 'beta', type: 'number', description: 'β of the alpha-beta rule (at most 1e6)', default: 1, min: 0, max: 1e6 },
  { name: 'low', type: 'json', description: 'z-box lowest input value: a number or one per channel (default: for image inputs the preprocessed range of [0, 1] pixels per channel, else the input range)' },
  { name: 'high', type: 'json', description: 'z-box highest input value: a number or one per channel (default: for image inputs the preprocessed range of [0, 1] pixels per channel, else the input range)' },
  { name: 'stabilizer', type: 'number', description: 'added to denominators (with their sign) by every rule but epsilon (at most 1)', default: 1e-6, min: 0, max: 1 },
  {
    name: 'layerRules',
    type: 'json',
    description: `per-layer overrides [{ "layer": i, "rule": …, …parameters }], i counting linear layers from the input; rules: ${LRP_RULES.join(', ')}`,
    default: [],
  },
  { name: 'bias', type: 'string', description: "absorb: the bias keeps its share; zero: biases set to 0 in the rules; explicit: each layer's bias relevance is reported", default: 'absorb', choices: [...BIAS_MODES] },
  { name: 'maxpool', type: 'string', description: 'winner-take-all (the gradient) or proportional to the positive inputs of each window', default: 'winner-take-all', choices: [...MAXPOOL_MODES] },
  gatesParam,
  {
    name: 'batchNormMerge',
    type: 'string',
    description:
      "exact: a BatchNorm after a linear layer is folded into it, the model's own function; zennit-0.5.1: as Zennit 0.5.1's canonizer leaves it — every folded layer's output is also divided by √(1 + the BatchNorm's eps) and relevance crosses that factor unchanged; not the model's function, only to reproduce Zennit 0.5.1's numbers; acts on the BatchNormalization nodes in the file (an exporter may have folded them already)",
    default: 'exact',
    choices: [...BATCH_NORM_MERGES],
  },
];

/** True when some layer may get z-box with the method's own low/high (they then belong in the cache key). */
function usesBounds(composite: string, layerRules: { rule: string; low?: unknown; high?: unknown }[]): boolean {
  return composite === 'epsilon-gamma-box' || layerRules.some((r) => r.rule === 'z-box' && (r.low === undefined || r.high === undefined));
}

export const lrp: AttributionMethod = {
  id: 'lrp',
  description: 'layer-wise relevance propagation: relevance f_t(x) flows back layer by layer by per-layer rules (Zennit 0.5.1 rules and composites)',
  kind: 'compiled',
  params: lrpParams,
  async explain(request) {
    const p = request.params;
    const composite = p.composite as string;
    const layerRules = parseLayerRules(p.layerRules);
    const map = compositeMap(composite);
    const needsBounds = usesBounds(composite, layerRules);
    // Bounds not in use stay 0 so that explaining new inputs (whose min/max differ) reuses the session.
    const bounds = needsBounds ? resolveBounds(p, request.data, request.inputs) : { low: 0, high: 0 };
    const settings: LrpSettings = {
      composite: map,
      params: ruleParams(p, bounds),
      layerRules,
      stabilizer: p.stabilizer as number,
      bias: p.bias as BiasMode,
      maxpool: p.maxpool as MaxPoolMode,
      gates: p.gates as GateMode,
    };
    const batchNormMerge = p.batchNormMerge as BatchNormMerge;
    const key = JSON.stringify({ composite, ...settings.params, layerRules, stabilizer: settings.stabilizer, bias: settings.bias, maxpool: settings.maxpool, gates: settings.gates });
    return explainWithLrp(request, 'lrp', settings, batchNormMerge, `lrp:${key}`);
  },
};
