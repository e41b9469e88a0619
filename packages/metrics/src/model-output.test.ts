import { tensor } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { modelScorer, validatedRowsScorer } from './model-output.js';
import { mlpModel, uniformInputs } from '@blameboard/testing/metric-models';

describe('validatedRowsScorer', () => {
  it('gives modelScorer’s numbers bit for bit, for logits and probabilities, on a view of a larger buffer', async () => {
    const model = await mlpModel(6, 8, 5, 11);
    const n = 10;
    // Rows 3…12 of a 16-row buffer: the scorer's onnxruntime runs then start at non-zero offsets.
    const buffer = uniformInputs([16, 6], 4, -2, 2).data as Float32Array;
    const inputs = tensor('float32', [n, 6], buffer.subarray(3 * 6, (3 + n) * 6));
    const targets = Int32Array.from({ length: n }, (_, i) => (i * 3) % 5);
    for (const output of ['logit', 'probability'] as const) {
      // batch 3 does not divide 10: views at every offset, a short last run.
      const fast = await validatedRowsScorer(model, output, { batchSize: 3 })(inputs, targets);
      const reference = await modelScorer(model, output, { batchSize: 256 })(tensor('float32', [n, 6], Float32Array.from(inputs.data as Float32Array)), targets);
      expect(fast).toEqual(reference);
    }
    const p = await validatedRowsScorer(model, 'probability', { batchSize: 4 })(inputs, targets);
    for (const v of p) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(1);
    }
  });
});
