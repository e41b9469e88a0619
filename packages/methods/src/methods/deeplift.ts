import { sizeOf } from '@blameboard/core';
import { baselineParam, baselineSpec, blurSigmaParam, makeBaseline, seedParam } from '../baselines.js';
import { compiledHandle, DEFAULT_BATCH_SIZE } from '../compiled.js';
import { deepLiftRules } from '../rules/deeplift.js';
import { streamRows } from '../row-stream.js';
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
  async explain({ model, inputs, targets, params, data, batchSize }) {
    const baseline = makeBaseline(baselineSpec(params.baseline), inputs, { data, seed: params.seed as number, blurSigma: params.blurSigma as number });
    const handle = await compiledHandle(model, 'deeplift', 'deeplift-rescale', () => deepLiftRules(), { start: 'seed-input', withBaseline: true });
    const names = handle.meta.inputNames;
    const n = inputs.shape[0];
    const per = sizeOf(inputs.shape.slice(1));
    const x = inputs.data as Float32Array;
    const b = baseline.data as Float32Array;
    const out = new Float32Array(n * per);
    await streamRows({
      session: handle.session,
      fixedBatch: handle.fixedBatch,
      inputs: [
        { name: names.input, shape: model.inputShape },
        { name: names.seed, shape: [model.outputSize] },
        { name: names.baseline!, shape: model.inputShape },
      ],
      rows: n,
      batchSize: batchSize ?? DEFAULT_BATCH_SIZE,
      fill: (row, [xRow, seed, bRow]) => {
        xRow.set(x.subarray(row * per, (row + 1) * per));
        bRow.set(b.subarray(row * per, (row + 1) * per));
        seed[targets[row]] = 1;
      },
      consume: (row, o) => {
        const m = o[handle.meta.outputNames[0]];
        for (let j = 0; j < per; j++) out[row * per + j] = (x[row * per + j] - b[row * per + j]) * m[j];
      },
    });
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
