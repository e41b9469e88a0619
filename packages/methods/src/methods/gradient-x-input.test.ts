import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions } from '@blameboard/core';
import { tfGradient } from '@blameboard/tfjs';
import { explain } from '../registry.js';
import { randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, residualNet } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

describe('gradient-x-input', () => {
  it('is x ⊙ the tfjs gradient', async () => {
    const graph = residualNet(5);
    const model = await modelFrom(graph, 'gxi');
    const x = randomTensor([3, 1, 6, 6], 6);
    const targets = Int32Array.of(3, 0, 1);
    const { attributions } = await explain({ model, inputs: x, targets, method: 'gradient-x-input' });
    const g = (await tfGradient(model.graph!, x, targets)).data as Float32Array;
    const scale = Math.max(...Array.from(g, Math.abs));
    Array.from(attributions.data as Float32Array).forEach((v, i) => expect(Math.abs(v - (x.data[i] as number) * g[i])).toBeLessThanOrEqual(1e-5 * scale * 4));
  });
});
