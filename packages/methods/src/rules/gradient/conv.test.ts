import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions } from '@blameboard/core';
import { adjointCheck, graphOf, int, ints, node, randomTensor, str } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';
import { chooseConvAdjoint, convGradientVia } from './conv.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

describe('Conv gradient (ConvTranspose with the same weights)', () => {
  const cases: { name: string; x: number[]; w: number[]; attrs: Record<string, ReturnType<typeof ints> | ReturnType<typeof int> | ReturnType<typeof str>> }[] = [
    { name: 'plain 3×3', x: [2, 6, 6], w: [3, 2, 3, 3], attrs: {} },
    { name: 'stride 2 with a remainder row, pads', x: [1, 7, 6], w: [2, 1, 3, 2], attrs: { strides: ints([2, 2]), pads: ints([1, 0, 0, 1]) } },
    { name: 'dilation 2', x: [1, 8, 8], w: [2, 1, 3, 3], attrs: { dilations: ints([2, 2]) } },
    { name: 'groups', x: [4, 5, 5], w: [6, 2, 2, 2], attrs: { group: int(2) } },
    { name: 'depthwise', x: [3, 5, 5], w: [3, 1, 3, 3], attrs: { group: int(3), pads: ints([1, 1, 1, 1]) } },
    { name: 'auto_pad SAME_UPPER stride 2', x: [1, 7, 7], w: [1, 1, 4, 4], attrs: { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) } },
    { name: 'auto_pad SAME_LOWER', x: [1, 6, 6], w: [1, 1, 2, 2], attrs: { auto_pad: str('SAME_LOWER') } },
    { name: '1-D', x: [2, 9], w: [3, 2, 3], attrs: { strides: ints([2]) } },
    // Wide enough for the flipped-kernel Conv (see convGradient):
    { name: "16 channels, 'same' pads (flipped-kernel Conv)", x: [16, 5, 5], w: [16, 16, 3, 3], attrs: { pads: ints([1, 1, 1, 1]) } },
    { name: 'flipped-kernel Conv, dilated, uneven pads', x: [16, 7, 6], w: [16, 16, 3, 2], attrs: { dilations: ints([2, 1]), pads: ints([2, 0, 1, 1]) } },
    { name: 'flipped-kernel Conv, 8 channels in 2 groups', x: [8, 5, 5], w: [8, 4, 3, 3], attrs: { group: int(2), pads: ints([1, 1, 1, 1]) } },
  ];
  for (const c of cases) {
    it(`satisfies ⟨s, Jv⟩ = ⟨Jᵀs, v⟩: ${c.name}`, async () => {
      const g = graphOf([node('Conv', ['x', 'w', 'bias'], ['y'], c.attrs)], { w: randomTensor(c.w, 1), bias: randomTensor([c.w[0]], 2) }, ['N', ...c.x]);
      const { forward, backward } = await adjointCheck(g, rules, 2, 7);
      expect(backward).toBeCloseTo(forward, 3);
      expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-4);
    });
  }
});

describe('Conv gradient: every adjoint formulation is exact', () => {
  // The default rule picks one per layer; here each is forced on layers it may be picked for.
  const cases: { name: string; x: number[]; w: number[]; attrs: Record<string, ReturnType<typeof ints> | ReturnType<typeof int>> }[] = [
    { name: 'valid 5×5', x: [3, 9, 8], w: [4, 3, 5, 5], attrs: {} },
    { name: 'stride 2, dilation 2, uneven pads', x: [2, 11, 9], w: [3, 2, 3, 2], attrs: { strides: ints([2, 1]), dilations: ints([2, 2]), pads: ints([1, 0, 2, 1]) } },
    { name: '16 channels, stride 2', x: [16, 9, 9], w: [32, 16, 3, 3], attrs: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) } },
  ];
  for (const how of ['flipped-conv', 'matmul-col2im', 'conv-transpose'] as const) {
    for (const c of cases) {
      if (how === 'flipped-conv' && c.attrs.strides) continue; // stride 1 only
      it(`${how}: ${c.name}`, async () => {
        const g = graphOf([node('Conv', ['x', 'w', 'bias'], ['y'], c.attrs)], { w: randomTensor(c.w, 4), bias: randomTensor([c.w[0]], 5) }, ['N', ...c.x]);
        const forced = gradientRules({ Conv: convGradientVia(() => how) });
        const compiled = compileExplanation(g, forced, { start: 'seed-input' }).graph;
        const emitted = compiled.nodes.slice(g.nodes.length).map((n) => n.opType);
        expect(emitted).toContain({ 'flipped-conv': 'Conv', 'matmul-col2im': 'Col2Im', 'conv-transpose': 'ConvTranspose' }[how]);
        const { forward, backward } = await adjointCheck(g, forced, 2, 13);
        expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-4);
      });
    }
  }
});

describe('Conv gradient: a strided adjoint after a ReLU over whole channel blocks', () => {
  it('passes Col2Im through an identity Conv back into the blocked layout, exactly', async () => {
    const g = graphOf(
      [node('Relu', ['x'], ['r']), node('Conv', ['r', 'w', 'bias'], ['y'], { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) })],
      { w: randomTensor([32, 16, 3, 3], 4), bias: randomTensor([32], 5) },
      ['N', 16, 9, 9],
    );
    const forced = gradientRules({ Conv: convGradientVia(() => 'matmul-col2im') });
    const compiled = compileExplanation(g, forced, { start: 'seed-input' }).graph;
    const col2im = compiled.nodes.find((n) => n.opType === 'Col2Im')!;
    expect(compiled.nodes.some((n) => n.opType === 'Conv' && n.inputs[0] === col2im.outputs[0])).toBe(true);
    expect(compiled.declared?.map((v) => v.name)).toContain(col2im.outputs[0]);
    const { forward, backward } = await adjointCheck(g, forced, 2, 17);
    expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-4);
  });
});

describe('chooseConvAdjoint', () => {
  const layer = { group: 1, stride1: true, constantWeight: true, threads: 2 };
  it("flips the kernel of 'same'-padded layers with 8 or more channels", () => {
    expect(chooseConvAdjoint({ ...layer, inputChannels: 16, outputChannels: 16, input: [14, 14], output: [14, 14] })).toBe('flipped-conv');
    expect(chooseConvAdjoint({ ...layer, inputChannels: 8, outputChannels: 8, input: [12, 12], output: [12, 12] })).toBe('flipped-conv');
  });
  it("uses MatMul + Col2Im for 'valid' layers and thin inputs when several threads run", () => {
    // A flipped Conv would evaluate 12² instead of 8² positions, or pad 1 channel to 16.
    expect(chooseConvAdjoint({ ...layer, inputChannels: 16, outputChannels: 32, input: [12, 12], output: [8, 8] })).toBe('matmul-col2im');
    expect(chooseConvAdjoint({ ...layer, inputChannels: 1, outputChannels: 16, input: [28, 28], output: [24, 24] })).toBe('matmul-col2im');
  });
  it('uses ConvTranspose single-threaded, for grouped layers it cannot flip, and for computed weights', () => {
    expect(chooseConvAdjoint({ ...layer, threads: 1, inputChannels: 1, outputChannels: 16, input: [28, 28], output: [24, 24] })).toBe('conv-transpose');
    expect(chooseConvAdjoint({ ...layer, group: 2, inputChannels: 4, outputChannels: 6, input: [5, 5], output: [4, 4] })).toBe('conv-transpose');
    expect(chooseConvAdjoint({ ...layer, constantWeight: false, inputChannels: 16, outputChannels: 16, input: [8, 8], output: [8, 8] })).toBe('conv-transpose');
  });
});

describe('ConvTranspose gradient (Conv with the same weights)', () => {
  const cases: { name: string; x: number[]; w: number[]; attrs: Record<string, ReturnType<typeof ints> | ReturnType<typeof int> | ReturnType<typeof str>> }[] = [
    { name: 'stride 2', x: [2, 4, 4], w: [2, 3, 3, 3], attrs: { strides: ints([2, 2]) } },
    { name: 'pads and output_padding', x: [1, 3, 4], w: [1, 2, 3, 3], attrs: { strides: ints([2, 2]), pads: ints([1, 1, 1, 0]), output_padding: ints([1, 0]) } },
    { name: 'groups', x: [4, 3, 3], w: [4, 1, 2, 2], attrs: { group: int(2) } },
    { name: 'output_shape', x: [1, 3, 3], w: [1, 1, 3, 3], attrs: { strides: ints([2, 2]), output_shape: ints([6, 6]) } },
    { name: 'auto_pad SAME_UPPER', x: [1, 3, 3], w: [1, 1, 2, 2], attrs: { strides: ints([2, 2]), auto_pad: str('SAME_UPPER') } },
  ];
  for (const c of cases) {
    it(`satisfies the dot-product test: ${c.name}`, async () => {
      const g = graphOf([node('ConvTranspose', ['x', 'w'], ['y'], c.attrs)], { w: randomTensor(c.w, 3) }, ['N', ...c.x]);
      const { forward, backward } = await adjointCheck(g, rules, 2, 11);
      expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-4);
    });
  }
});
