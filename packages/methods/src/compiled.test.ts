import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions, float32, Rng, weightBytes, writeOnnx, type IrGraph } from '@blameboard/core';
import { mergeEqualInitializers } from './compiled.js';
import { runOnce } from '@blameboard/testing/graphs';
import { smallCnn } from '@blameboard/testing/method-models';
import { compositeRules } from './rules/lrp/test-utils/composite-rules.js';

afterAll(() => disposeSessions());

/** The first name of every initializer whose dtype, shape and bytes a later one repeats. */
function duplicated(graph: IrGraph): string[] {
  const first = new Map<string, string>();
  const out = new Set<string>();
  for (const [name, t] of graph.initializers) {
    const key = `${t.dtype}:${t.shape.join(',')}:${Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64')}`;
    if (first.has(key)) out.add(first.get(key)!);
    else first.set(key, name);
  }
  return [...out].sort();
}

describe('mergeEqualInitializers', () => {
  it('stores a dense rule’s Wᵀ once (it is the Gemm’s own transB weight), with the same attributions', async () => {
    const rules = compositeRules('epsilon-plus-flat');
    const compiled = compileExplanation(smallCnn(3), rules, { start: 'seed-times-output' });
    const x = float32([3, 2, 8, 8], new Rng(4).fillUniform(new Float32Array(3 * 128)));
    const seed = float32([3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const feeds = { [compiled.inputNames.input]: x, [compiled.inputNames.seed]: seed };
    const before = await runOnce(writeOnnx(compiled.graph), feeds);
    const bytesBefore = weightBytes(compiled.graph);
    // The epsilon rule's r·Wᵀ of both Gemms (transB = 1): Wᵀ of the rule's [K, M] is the stored weight.
    expect(duplicated(compiled.graph)).toEqual(['w3', 'w4']);

    expect(mergeEqualInitializers(compiled.graph)).toBe(2);
    expect(duplicated(compiled.graph)).toEqual([]);
    expect([...compiled.graph.initializers.keys()]).toEqual(expect.arrayContaining(['w3', 'w4']));
    expect(weightBytes(compiled.graph)).toBeLessThan(bytesBefore);
    const after = await runOnce(writeOnnx(compiled.graph), feeds);
    expect(after[compiled.outputNames[0]].data).toEqual(before[compiled.outputNames[0]].data);
  });
});
