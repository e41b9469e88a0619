import { runRows, sizeOf } from '@blameboard/core';
import { baselineParam, baselineSpec, blurSigmaParam, makeBaseline, seedParam } from '../baselines.js';
import { compiledHandle, float32Feed, oneHot } from '../compiled.js';
import { deepLiftRules } from '../rules/deeplift.js';
import type { AttributionMethod } from '../types.js';

/**
 * DeepLIFT with the Rescale rule, as Captum's DeepLift: one compiled graph runs the input and
 * the baseline forward and the multipliers backward; attribution = (x − x′) ⊙ multiplier.
 */
export const deeplift: AttributionMethod = {
  id: 'deeplift',
  description: 'DeepLIFT Rescale: (x − x′) ⊙ multipliers Δy/Δz through each nonlinearity (Captum DeepLift)',
  kind: 'compiled',
  params: [baselineParam(), blurSigmaParam, seedParam],
  async explain({ model, inputs, targets, params, data, batchSize, memory }) {
    const baseline = makeBaseline(baselineSpec(params.baseline), inputs, { data, seed: params.seed as number, blurSigma: params.blurSigma as number });
    const handle = await compiledHandle(model, 'deeplift', 'deeplift-rescale', () => deepLiftRules(), { start: 'seed-input', withBaseline: true });
    const names = handle.meta.inputNames;
    const n = inputs.shape[0];
    const per = sizeOf(inputs.shape.slice(1));
    const x = inputs.data as Float32Array;
    const b = baseline.data as Float32Array;
    const out = new Float32Array(n * per);
    await runRows(handle, {
      feeds: { [names.input]: float32Feed(inputs), [names.seed]: oneHot(targets, model.outputSize), [names.baseline!]: baseline },
      rows: n,
      budget: { batchSize, memory },
      consume: (start, count, o) => {
        const m = o[handle.meta.outputNames[0]].data as Float32Array;
        const offset = start * per;
        for (let j = 0; j < count * per; j++) out[offset + j] = (x[offset + j] - b[offset + j]) * m[j];
      },
    });
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
