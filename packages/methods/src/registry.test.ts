import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, InputError, UsageError } from '@blameboard/core';
import { explain, getMethod, methods } from './registry.js';
import { randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, smoothMlp } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

describe('method registry', () => {
  it('lists every SPEC §3 method once', () => {
    const ids = methods.map((m) => m.id);
    for (const id of ['gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad', 'deeplift', 'lrp', 'deep-taylor', 'occlusion', 'blame', 'uniform', 'random', 'edge']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents a range for every numeric parameter, and refuses a value beyond it', async () => {
    for (const m of methods) {
      for (const p of m.params) {
        if (p.type !== 'number' && p.type !== 'integer' && !p.allowNumber) continue;
        expect(Number.isFinite(p.min), `${m.id}.${p.name} min`).toBe(true);
        expect(Number.isFinite(p.max), `${m.id}.${p.name} max`).toBe(true);
        expect(p.min!).toBeLessThan(p.max!);
        const model = await modelFrom(smoothMlp(1), 'ranges');
        await expect(explain({ model, inputs: randomTensor([1, 5], 1), targets: Int32Array.of(0), method: m.id, params: { [p.name]: p.max! * 2 + 1 } }), `${m.id}.${p.name}`).rejects.toThrow(
          `parameter '${p.name}' of method '${m.id}' must be ≤ ${p.max}`,
        );
      }
    }
  });

  it('refuses an unknown method, listing the known ones', () => {
    expect(() => getMethod('saliency')).toThrow(UsageError);
    expect(() => getMethod('saliency')).toThrow(/unknown method 'saliency'; known methods: gradient, gradient-x-input, integrated-gradients/);
  });

  it('refuses an unknown parameter, listing the known ones', async () => {
    const model = await modelFrom(smoothMlp(1), 'registry');
    const inputs = randomTensor([1, 5], 1);
    await expect(explain({ model, inputs, targets: Int32Array.of(0), method: 'smoothgrad', params: { sigma: 0.2 } })).rejects.toThrow(
      /unknown parameter 'sigma' for method 'smoothgrad'; known parameters: samples, noise, variant, multiplyByInput, seed/,
    );
    await expect(explain({ model, inputs, targets: Int32Array.of(0), method: 'uniform', params: { seed: 1 } })).rejects.toThrow(/known parameters: \(none\)/);
  });

  it('refuses bad inputs and targets with one-line input errors', async () => {
    const model = await modelFrom(smoothMlp(1), 'registry');
    await expect(explain({ model, inputs: randomTensor([1, 4], 1), targets: Int32Array.of(0), method: 'gradient' })).rejects.toThrow(InputError);
    await expect(explain({ model, inputs: randomTensor([1, 5], 1), targets: Int32Array.of(3), method: 'gradient' })).rejects.toThrow(/out of range/);
  });

  it('fills defaults from the parameter specs', () => {
    const ig = getMethod('integrated-gradients');
    expect(Object.fromEntries(ig.params.filter((p) => p.default !== undefined).map((p) => [p.name, p.default]))).toMatchObject({
      steps: 32,
      rule: 'gauss-legendre',
      baseline: 'zero',
    });
  });
});
