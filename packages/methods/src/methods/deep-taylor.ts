import type { ParamSpec } from '@blameboard/core';
import { DEEP_TAYLOR } from '../rules/lrp/composites.js';
import type { GateMode, LrpSettings } from '../rules/lrp/ruleset.js';
import type { AttributionMethod } from '../types.js';
import { explainWithLrp, resolveBounds, ruleParams } from './lrp-explain.js';
import { gatesParam } from './lrp.js';

export const deepTaylorParams: ParamSpec[] = [
  { name: 'low', type: 'json', description: 'lowest input value: a number or one per channel (default: for image inputs the preprocessed range of [0, 1] pixels per channel, else the input range)' },
  { name: 'high', type: 'json', description: 'highest input value: a number or one per channel (default: for image inputs the preprocessed range of [0, 1] pixels per channel, else the input range)' },
  gatesParam,
];

export const deepTaylor: AttributionMethod = {
  id: 'deep-taylor',
  description: 'deep Taylor decomposition: LRP with z-box on the first linear layer and z-plus on the others',
  kind: 'compiled',
  params: deepTaylorParams,
  async explain(request) {
    const bounds = resolveBounds(request.params, request.data, request.inputs);
    const settings: LrpSettings = {
      composite: DEEP_TAYLOR,
      params: ruleParams({}, bounds),
      layerRules: [],
      stabilizer: 1e-6,
      bias: 'absorb',
      maxpool: 'winner-take-all',
      gates: (request.params.gates as GateMode | undefined) ?? 'constant',
    };
    return explainWithLrp(request, 'deep-taylor', settings, 'exact', `deep-taylor:${JSON.stringify({ ...bounds, gates: settings.gates })}`);
  },
};
