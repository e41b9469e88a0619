import { float32, Rng, type Tensor } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { evaluate } from './registry.js';
import { linearModel, uniformInputs } from '@blameboard/testing/metric-models';

// A model fed flattened 28×28 images ([N, 784]) with data.imageShape [1, 28, 28] must be scored
// exactly like the same linear model fed the images ([N, 1, 28, 28]): same bytes, same geometry.
const IMAGE = [1, 28, 28];
const rng = new Rng(11);
const weights = [0, 1].map(() => Array.from({ length: 784 }, () => rng.normal(0, 0.05)));
const bias = [0.1, -0.2];
const reshape = (t: Tensor, shape: number[]) => float32(shape, t.data as Float32Array);

async function pair() {
  const flat = await linearModel(weights, bias, [784], 'flat');
  const image = await linearModel(weights, bias, IMAGE, 'image');
  const xFlat = uniformInputs([2, 784], 3);
  return { flat, image, xFlat, xImage: reshape(xFlat, [2, ...IMAGE]), targets: Int32Array.from([0, 1]) };
}

describe('flattened images with data.imageShape', () => {
  it('selectivity (4×4 regions, blur fill) equals selectivity on the reshaped images', async () => {
    const { flat, image, xFlat, xImage, targets } = await pair();
    const aFlat = uniformInputs([2, 784], 4, -1, 1);
    const params = { steps: 6, fill: 'blur', blurSigma: 1.5, output: 'logit' };
    const onImage = await evaluate({ model: image, inputs: xImage, targets, attributions: reshape(aFlat, [2, ...IMAGE]), metric: 'selectivity', params });
    const onFlat = await evaluate({ model: flat, inputs: xFlat, targets, attributions: aFlat, metric: 'selectivity', params, data: { imageShape: IMAGE } });
    expect(onImage.params.patch).toBe(4);
    expect(onFlat).toEqual(onImage);
    // Without the image shape the flat model is scored as a vector: single features, other curves.
    const plain = await evaluate({ model: flat, inputs: xFlat, targets, attributions: aFlat, metric: 'selectivity', params });
    expect(plain.params.patch).toBe(1);
    expect(plain.curves).not.toEqual(onImage.curves);
  });

  it('continuity (sub-pixel translation) equals continuity on the reshaped images', async () => {
    const { flat, image, xFlat, xImage, targets } = await pair();
    const method = { id: 'gradient-x-input' };
    const params = { steps: 4 };
    const onImage = await evaluate({ model: image, inputs: xImage, targets, metric: 'continuity', method, params });
    const onFlat = await evaluate({ model: flat, inputs: xFlat, targets, metric: 'continuity', method, params, data: { imageShape: IMAGE } });
    expect(onImage.params.distance).toBe(4);
    expect(onFlat).toEqual(onImage);
    const plain = await evaluate({ model: flat, inputs: xFlat, targets, metric: 'continuity', method, params });
    expect(plain.values.lipschitz.perSample).not.toEqual(onImage.values.lipschitz.perSample);
  });

  it("conservation rebuilds integrated gradients' blur baseline in the image geometry", async () => {
    const { flat, image, xFlat, xImage, targets } = await pair();
    const method = { id: 'integrated-gradients', params: { baseline: 'blur', steps: 8 } };
    const onImage = await evaluate({ model: image, inputs: xImage, targets, metric: 'conservation', method });
    const onFlat = await evaluate({ model: flat, inputs: xFlat, targets, metric: 'conservation', method, data: { imageShape: IMAGE } });
    expect(onFlat).toEqual(onImage);
  });

  it('counterfactual-blame (4×4 regions) equals counterfactual-blame on the reshaped images', async () => {
    const { flat, image, xFlat, xImage } = await pair();
    // Gold labels opposite to whatever the model predicts, so every sample is misclassified.
    const x = xFlat.data as Float32Array;
    const predicted = [0, 1].map((n) => {
      const f = weights.map((row, c) => bias[c] + row.reduce((s, v, i) => s + v * x[n * 784 + i], 0));
      return f[0] >= f[1] ? 0 : 1;
    });
    const labels = Int32Array.from(predicted, (p) => 1 - p);
    const method = { id: 'gradient' };
    const params = { fill: 'blur' };
    const onImage = await evaluate({ model: image, inputs: xImage, targets: labels, metric: 'counterfactual-blame', method, params, data: { labels } });
    const onFlat = await evaluate({ model: flat, inputs: xFlat, targets: labels, metric: 'counterfactual-blame', method, params, data: { labels, imageShape: IMAGE } });
    expect(onImage.params.patch).toBe(4);
    expect(onImage.skipped ?? []).toEqual([]);
    expect(onFlat).toEqual(onImage);
    const plain = await evaluate({ model: flat, inputs: xFlat, targets: labels, metric: 'counterfactual-blame', method, params, data: { labels } });
    expect(plain).not.toEqual(onImage);
  });
});
