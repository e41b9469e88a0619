import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, targetOutputs as targetLogits } from '@blameboard/core';
import { explain } from '../registry.js';
import { randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, smallCnn } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

describe('uniform', () => {
  it('spreads f_t(x) evenly: every feature equal, summing to f_t(x)', async () => {
    const model = await modelFrom(smallCnn(3), 'uniform');
    const x = randomTensor([3, 2, 8, 8], 4);
    const targets = Int32Array.of(0, 1, 2);
    const { attributions } = await explain({ model, inputs: x, targets, method: 'uniform' });
    const f = await targetLogits(model, x, targets);
    const a = attributions.data as Float32Array;
    for (let i = 0; i < 3; i++) {
      const row = a.subarray(i * 128, (i + 1) * 128);
      expect(new Set(row).size).toBe(1);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(f[i], 5);
    }
  });
});
