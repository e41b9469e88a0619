import { resolveParams, type BatchNormMerge, type ParamSpec } from '@blameboard/core';
import { DEEP_TAYLOR } from '../rules/lrp/composites.js';
import type { MaxPoolMode } from '../rules/lrp/maxpool.js';
import type { BiasMode, GateMode, LrpSettings } from '../rules/lrp/ruleset.js';
import type { AttributionMethod } from '../types.js';
import { explainWithLrp, resolveBounds, ruleParams } from './lrp-explain.js';
import { gatesParam, lrpParams } from './lrp.js';

export const deepTaylorParams: ParamSpec[] = [
  { name: 'low', type: 'json', description: 'lowest input value: a number or one per channel (default: for image inputs the preprocessed range of [0, 1] pixels per channel, else the input range)' },
  { name: 'high', type: 'json', description: 'highest input value: a number or one per channel (default: for image inputs the preprocessed range of [0, 1] pixels per channel, else the input range)' },
  gatesParam,
];

/**
 * Deep Taylor is LRP with its own composite and everything else at `lrp`'s defaults (ε of the
 * sums, stabilizer, bias, max-pool, BatchNorm merge), so those values are read from `lrp`'s specs.
 */
const LRP_DEFAULTS = resolveParams("method 'lrp'", lrpParams, {});

export const deepTaylor: AttributionMethod = {
  id: 'deep-taylor',
  description: 'deep Taylor decomposition: LRP with z-box on the first linear layer and z-plus on the others',
  kind: 'compiled',
  params: deepTaylorParams,
  async explain(request) {
    const bounds = resolveBounds(request.params, request.data, request.inputs);
    const settings: LrpSettings = {
      composite: DEEP_TAYLOR,
      params: ruleParams(LRP_DEFAULTS, bounds),
      layerRules: [],
      stabilizer: LRP_DEFAULTS.stabilizer as number,
      bias: LRP_DEFAULTS.bias as BiasMode,
      maxpool: LRP_DEFAULTS.maxpool as MaxPoolMode,
      gates: request.params.gates as GateMode,
    };
    const batchNormMerge = LRP_DEFAULTS.batchNormMerge as BatchNormMerge;
    return explainWithLrp(request, 'deep-taylor', settings, batchNormMerge, `deep-taylor:${JSON.stringify({ ...bounds, gates: settings.gates })}`);
  },
};
