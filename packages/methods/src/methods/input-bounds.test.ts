import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, loadModel, resolveParams, Rng, writeOnnx, type LoadedModel, type Tensor } from '@blameboard/core';
import { irFromRef, randomConv, randomDense } from '@blameboard/testing/lrp-nets';
import { referenceLrp, type RefLayer } from '@blameboard/testing/lrp-reference';
import type { DataContext } from '../types.js';
import { deepTaylor } from './deep-taylor.js';
import { resolveBounds } from './lrp-explain.js';
import { lrp } from './lrp.js';

afterAll(() => disposeSessions());

// ImageNet's normalisation: [0, 1] pixels land in (0 − mean)/std … (1 − mean)/std per channel.
const mean = [0.485, 0.456, 0.406];
const std = [0.229, 0.224, 0.225];
const low = mean.map((m, c) => -m / std[c]);
const high = mean.map((m, c) => (1 - m) / std[c]);
const imageData: DataContext = { range: [Math.min(...low), Math.max(...high)], inputBounds: { low, high } };

describe('z-box bounds default to the data’s exact per-channel input bounds', () => {
  it('prefers given low/high, then inputBounds, then the range, then the inputs’ min/max', () => {
    const x = float32([1, 2], [-3, 7]);
    expect(resolveBounds({}, imageData, x)).toEqual({ low, high });
    expect(resolveBounds({ low: -1 }, imageData, x)).toEqual({ low: -1, high });
    expect(resolveBounds({}, { range: [0, 1] }, x)).toEqual({ low: 0, high: 1 });
    expect(resolveBounds({}, undefined, x)).toEqual({ low: -3, high: 7 });
  });

  // A 3-channel conv net on normalised "pixels", checked against the naive float64 reference.
  const rng = new Rng(77);
  const layers: RefLayer[] = [
    randomConv(rng, 4, 3, 3, { pads: [1, 1, 1, 1] }),
    { kind: 'relu' },
    randomConv(rng, 3, 4, 3),
    { kind: 'relu' },
    { kind: 'flatten' },
    randomDense(rng, 3 * 4 * 4, 5),
  ];
  const inputs = (): Tensor => {
    const x = float32([2, 3, 6, 6]);
    const data = x.data as Float32Array;
    new Rng(5).fillUniform(data, 0, 1);
    for (let i = 0; i < data.length; i++) {
      const c = Math.floor(i / 36) % 3;
      data[i] = (data[i] - mean[c]) / std[c];
    }
    return x;
  };
  let model: LoadedModel;
  const explain = async (method: typeof lrp, params: Record<string, unknown>, data: DataContext) => {
    model ??= await loadModel({ bytes: writeOnnx(irFromRef(layers, [3, 6, 6])), id: 'rgb-cnn' });
    const result = await method.explain({ model, inputs: inputs(), targets: Int32Array.from([1, 4]), params: resolveParams(method.id, method.params, params), data });
    return result.attributions.data as Float32Array;
  };

  it('epsilon-gamma-box uses per-channel z-box bounds on the first conv (naive reference)', async () => {
    const got = await explain(lrp, {}, imageData);
    const x = inputs().data as Float32Array;
    const per = 3 * 36;
    let peak = 0;
    for (let r = 0; r < 2; r++) {
      const ref = referenceLrp(layers, [3, 6, 6], Array.from(x.subarray(r * per, (r + 1) * per)), [1, 4][r], {
        rules: [{ rule: 'z-box', low, high }, { rule: 'gamma', gamma: 0.25 }, { rule: 'epsilon', epsilon: 1e-6 }],
        stabilizer: 1e-6,
        bias: 'absorb',
        maxpool: 'winner-take-all',
      });
      const scale = Math.max(...ref.relevance.map(Math.abs));
      peak = Math.max(peak, scale);
      ref.relevance.forEach((v, i) => expect(Math.abs(got[r * per + i] - v)).toBeLessThanOrEqual(1e-4 * scale + 1e-6));
    }
    expect(peak).toBeGreaterThan(1e-3);
    // The scalar hull of the channels' ranges is a different (wider) box: the default is really per channel.
    const hull = await explain(lrp, {}, { range: imageData.range });
    expect(hull.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i])), 0)).toBeGreaterThan(1e-3 * peak);
  });

  it('deep-taylor takes the same per-channel default', async () => {
    const byDefault = await explain(deepTaylor, {}, imageData);
    const explicit = await explain(deepTaylor, { low, high }, { range: [0, 1] });
    expect(Array.from(byDefault)).toEqual(Array.from(explicit));
  });
});
