import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions } from '@blameboard/core';
import { compiledRun, finiteDifference, forwardOf, graphOf, int, node, randomTensor } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

describe('Softmax and LogSoftmax gradients', () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    for (const [opset, axis] of [[13, 1], [13, -1], [11, 1]] as const) {
      it(`${op} (opset ${opset}, axis ${axis}) matches central differences`, async () => {
        // x [N, 3, 4]: opset 11 with axis 1 normalises over the last 12 values at once.
        const g = graphOf([node(op, ['x'], ['y'], { axis: int(axis) })], {}, ['N', 3, 4], opset);
        const x = randomTensor([2, 3, 4], 3);
        const s = randomTensor([2, 3, 4], 4);
        const out = await compiledRun(g, rules, x, s);
        // The compiled graph keeps the original opset's meaning.
        expect(Array.from(out.y.data as Float32Array)).toEqual(Array.from((await forwardOf(g, x)).data as Float32Array));
        const fd = await finiteDifference(g, x, s, 1e-3);
        Array.from(out.attribution.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(fd[i], 2));
      });
    }
  }
});
