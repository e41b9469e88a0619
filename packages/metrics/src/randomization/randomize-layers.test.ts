import { float32, Rng, type IrGraph, type IrNode } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { reinitializeLayer, stdOf } from './randomize-layers.js';

function graph(): IrGraph {
  const rng = new Rng(1);
  const w1 = float32([64, 32], Array.from({ length: 64 * 32 }, () => rng.normal(0.3, 0.2)));
  const w2 = float32([4, 64], Array.from({ length: 4 * 64 }, () => rng.normal(0, 2)));
  const gemm = (name: string, inputs: string[]): IrNode => ({ name, opType: 'Gemm', domain: '', inputs, outputs: [`${name}_out`], attributes: {} });
  return {
    name: 'g',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 't',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 32] }],
    outputs: [{ name: 'l2_out', dtype: 'float32', shape: ['N', 4] }],
    initializers: new Map([
      ['W1', w1],
      ['B1', float32([64], new Array(64).fill(0.5))],
      ['W2', w2],
    ]),
    nodes: [gemm('l1', ['x', 'W1', 'B1']), gemm('l2', ['l1_out', 'W2'])],
    values: new Map(),
  };
}

describe('stdOf', () => {
  it('is the population standard deviation', () => {
    expect(stdOf(float32([4], [1, 3, 1, 3]))).toBe(1);
  });
});

describe('reinitializeLayer', () => {
  it('redraws the layer at the scale of its weights, zero-mean, and leaves the rest alone', () => {
    const g = graph();
    const out = reinitializeLayer(g, g.nodes[0], new Rng(5));
    const w = out.initializers.get('W1')!;
    expect(w.shape).toEqual([64, 32]);
    expect(stdOf(w)).toBeCloseTo(stdOf(g.initializers.get('W1')!), 1);
    const mean = (w.data as Float32Array).reduce((s, v) => s + v, 0) / w.data.length;
    expect(Math.abs(mean)).toBeLessThan(0.02); // the original mean 0.3 is not kept
    // A constant bias has std 0: it becomes 0.
    expect(Array.from(out.initializers.get('B1')!.data as Float32Array)).toEqual(new Array(64).fill(0));
    expect(out.initializers.get('W2')).toBe(g.initializers.get('W2'));
    expect(g.initializers.get('B1')!.data[0]).toBe(0.5); // the source graph is untouched
  });

  it('is reproducible for a seed', () => {
    const g = graph();
    const a = reinitializeLayer(g, g.nodes[1], new Rng(9)).initializers.get('W2')!;
    const b = reinitializeLayer(g, g.nodes[1], new Rng(9)).initializers.get('W2')!;
    const c = reinitializeLayer(g, g.nodes[1], new Rng(10)).initializers.get('W2')!;
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
  });
});
