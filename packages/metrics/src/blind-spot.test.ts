import { describe, expect, it } from 'vitest';

/**
 * Seed 004's blind spot, as SPEC §4 requires the leaderboard to show it: the `uniform` control
 * (f_t(x)/d everywhere) is conservative, continuous and implementation-invariant — and
 * uninformative, which only selectivity reveals.
 */
describe('the uniform control on mnist-cnn (seed 004)', () => {
  // Attribution maps of the gradient and LRP families. The signed gradient and signed SmoothGrad
  // are sensitivity maps, not attributions: a background pixel with a positive gradient raises
  // f_t when the uniform-noise fill adds ink there, so they are scored by magnitude here.
  const informative: [string, Record<string, unknown>][] = [
    ['gradient', { abs: true }],
    ['gradient-x-input', {}],
    ['integrated-gradients', {}],
    ['smoothgrad', { variant: 'squared' }],
    ['deeplift', {}],
    ['lrp', {}],
    ['lrp', { composite: 'epsilon-plus' }],
    ['deep-taylor', {}],
  ];

  /** 32 mnist-cnn test digits, explained for their predicted class, and a metric runner on them. */
  async function mnistCnnRun() {
    const { resolveModel } = await import('@blameboard/models');
    const { loadDataset } = await import('@blameboard/datasets');
    const { evaluate } = await import('./registry.js');
    const { predictClasses } = await import('./model-output.js');
    const model = await resolveModel('mnist-cnn');
    const data = await loadDataset('mnist', { split: 'test', count: 32, layout: 'nchw' });
    const inputs = data.inputs;
    const targets = await predictClasses(model, inputs);
    const context = { mean: data.mean, range: data.range, name: 'mnist' };
    return (metric: string, method: string, methodParams: Record<string, unknown> = {}, params?: Record<string, unknown>) =>
      evaluate({ model, inputs, targets, metric, method: { id: method, params: methodParams }, data: context, params });
  }

  it('is perfect on conservation, continuity and implementation invariance, and last on selectivity', async () => {
    const run = await mnistCnnRun();

    const conservation = await run('conservation', 'uniform');
    expect(conservation.values.withinTolerance.mean).toBe(1);
    for (const v of conservation.values.relativeError.perSample) expect(v).toBeLessThan(1e-5);

    const invariance = await run('implementation-invariance', 'uniform', {}, { pair: 'mnist-cnn-split' });
    expect(invariance.values.relativeL1.mean).toBeLessThan(1e-4);

    const abpc = async (method: string, p: Record<string, unknown>) => (await run('selectivity', method, p)).values.abpc.mean!;
    const lipschitz = async (method: string, p: Record<string, unknown>) => (await run('continuity', method, p, { steps: 8 })).values.lipschitz.mean!;
    const uniformAbpc = await abpc('uniform', {});
    const uniformLipschitz = await lipschitz('uniform', {});
    for (const [method, p] of informative) {
      const name = `${method} ${JSON.stringify(p)}`;
      expect.soft(await abpc(method, p), `${name}: ABPC above uniform's`).toBeGreaterThan(uniformAbpc);
      expect.soft(await lipschitz(method, p), `${name}: less continuous than uniform`).toBeGreaterThan(uniformLipschitz);
    }
  });

  // With the default uniform-noise fill the signed sensitivity maps rank below the control (see
  // docs/decisions.md); with a zero fill, which adds no ink, every gradient- and LRP-based map —
  // signed ones included — beats it.
  it('is last on selectivity with a zero fill, against signed maps too', async () => {
    const run = await mnistCnnRun();
    const abpc = async (method: string, p: Record<string, unknown>) => (await run('selectivity', method, p, { fill: 'zero' })).values.abpc.mean!;
    const uniformAbpc = await abpc('uniform', {});
    for (const [method, p] of [...informative, ['gradient', {}], ['smoothgrad', {}], ['blame', {}]] as [string, Record<string, unknown>][]) {
      expect.soft(await abpc(method, p), `${method} ${JSON.stringify(p)}: ABPC above uniform's`).toBeGreaterThan(uniformAbpc);
    }
  });
});
