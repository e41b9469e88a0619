import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, loadModel } from '@blameboard/core';
import { explain } from './registry.js';

afterAll(() => disposeSessions());

interface Case {
  model: string;
  input: unknown;
  target: number;
  method: string;
  params: Record<string, unknown>;
  expected: unknown;
  atol: number;
  source: string;
}

const dir = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));
const vectors = JSON.parse(readFileSync(`${dir}vectors.json`, 'utf8')) as { cases: Case[] };
const LRP = new Set(['lrp', 'deep-taylor']);

function shapeOf(v: unknown): number[] {
  return Array.isArray(v) ? [v.length, ...shapeOf(v[0])] : [];
}

describe('Captum reference vectors (non-LRP methods)', () => {
  const cases = vectors.cases.filter((c) => !LRP.has(c.method));
  it('covers every non-LRP case of vectors.json', () => {
    expect(cases.map((c) => c.method).sort()).toEqual(['deeplift', 'deeplift', 'deeplift', 'gradient', 'gradient-x-input', 'integrated-gradients', 'integrated-gradients']);
  });
  for (const c of cases) {
    it(`${c.method} on ${c.model} ${JSON.stringify(c.params)} (${c.source})`, async () => {
      const model = await loadModel(`${dir}${c.model}`);
      const shape = shapeOf(c.input);
      const inputs = float32(shape, (c.input as number[]).flat(Infinity) as number[]);
      const targets = new Int32Array(shape[0]).fill(c.target);
      const { attributions } = await explain({ model, inputs, targets, method: c.method, params: c.params });
      expect(attributions.shape).toEqual(shape);
      const expected = (c.expected as number[]).flat(Infinity) as number[];
      Array.from(attributions.data as Float32Array).forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(c.atol));
    });
  }
});
