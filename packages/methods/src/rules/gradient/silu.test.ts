import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions, float32, inferShapes, OnnxSession, Rng, writeOnnx, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';
import { mulGradient } from './arithmetic.js';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const node = (opType: string, inputs: string[], outputs: string[], attributes: IrNode['attributes'] = {}): IrNode => ({ name: outputs[0], opType, domain: '', inputs, outputs, attributes });
const normal = (shape: number[], seed: number, std: number): Tensor => float32(shape, new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, std));

/**
 * Conv → SiLU (Sigmoid, Mul) → a squeeze-excitation gate x·σ(W·mean(x)) (a Mul of two different
 * values: not a unit) → SiLU whose σ also feeds the output sum (σ has a second reader: not a
 * unit either) → GlobalAveragePool → Gemm.
 */
function siluNet(channels: number): IrGraph {
  const g: IrGraph = {
    name: 'silu-net',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'test',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2, 6, 6] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    initializers: new Map([
      ['w', normal([channels, 2, 3, 3], 1, 0.6)],
      ['b', normal([channels], 2, 0.3)],
      ['we', normal([channels, channels, 1, 1], 3, 0.5)],
      ['wd', normal([3, channels], 4, 0.5)],
      ['bd', normal([3], 5, 0.1)],
    ]),
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: { type: 'ints', value: [3, 3] }, pads: { type: 'ints', value: [1, 1, 1, 1] } }),
      node('Sigmoid', ['c'], ['sc']),
      node('Mul', ['c', 'sc'], ['a']), // SiLU, σ read once: a unit
      node('GlobalAveragePool', ['a'], ['m']),
      node('Conv', ['m', 'we'], ['e']),
      node('Sigmoid', ['e'], ['gate']),
      node('Mul', ['a', 'gate'], ['h']), // gate: x·σ(other)
      node('Sigmoid', ['h'], ['sh']),
      node('Mul', ['sh', 'h'], ['k']), // SiLU (operands swapped) whose σ is read twice
      node('Add', ['k', 'sh'], ['s']),
      node('GlobalAveragePool', ['s'], ['p']),
      node('Flatten', ['p'], ['f']),
      node('Gemm', ['f', 'wd', 'bd'], ['y'], { transB: { type: 'int', value: 1 } }),
    ],
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

async function gradientOf(graph: IrGraph, rules: ReturnType<typeof gradientRules>, x: Tensor, seed: Tensor) {
  const compiled = compileExplanation(graph, rules, { start: 'seed-input' });
  const session = await OnnxSession.create(writeOnnx(compiled.graph), { intraOpNumThreads: 1 });
  const out = await session.run({ [compiled.inputNames.input]: x, [compiled.inputNames.seed]: seed });
  await session.dispose();
  // The backward nodes, wherever the compiler placed them (it moves nodes next to what they read).
  const forward = new Set(graph.nodes.map((n) => n.name));
  return { data: out[compiled.outputNames[0]].data as Float32Array, nodes: compiled.graph.nodes.filter((n) => !forward.has(n.name)) };
}

describe('x·σ(x) differentiated as one activation', () => {
  // 16 channels: (1 − y) + x is a depthwise Conv fused with the Add (onnxruntime's blocked layout).
  it.each([4, 16])('equals the product rule (itself held to tf.grad) where σ is read by the Mul alone, and only there (%i channels)', async (channels) => {
    const graph = siluNet(channels);
    const x = normal([3, 2, 6, 6], 6, 1.5);
    const seed = float32([3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const unit = await gradientOf(graph, gradientRules(), x, seed);
    const productRule = await gradientOf(graph, gradientRules({ Mul: mulGradient }), x, seed);
    const scale = productRule.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(1e-3);
    unit.data.forEach((v, i) => expect(Math.abs(v - productRule.data[i])).toBeLessThanOrEqual(1e-6 * scale));
    // The unit's σ (sc) gets no gradient of its own: no σ(1 − σ) is formed from it. The gate's and
    // the twice-read σ's derivatives are still formed (each reads its Sigmoid's output).
    const sigmoidDerivativeOf = (nodes: IrNode[]) => nodes.filter((n) => n.opType === 'Sub' && n.inputs[1] && ['sc', 'gate', 'sh'].includes(n.inputs[1])).map((n) => n.inputs[1]).sort();
    expect(sigmoidDerivativeOf(productRule.nodes)).toEqual(['gate', 'sc', 'sh']);
    expect(sigmoidDerivativeOf(unit.nodes)).toEqual(['gate', 'sh']);
    expect(unit.nodes.length).toBeLessThan(productRule.nodes.length);
    expect(unit.nodes.some((n) => n.opType === 'Conv' && n.inputs[1].startsWith('bb_channel_scale'))).toBe(channels === 16);
  });
});
