import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNpy, saveNpy, type Tensor } from '@blameboard/core';
import { loadDataset, loadInputs } from '@blameboard/datasets';
import { runCli, scratchDir } from './test-utils.js';

const NPZ = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/core/fixtures/npz');
const MNIST_NORM = { mean: [0.1307], std: [0.3081] };

/** An 8-bit grayscale PNG of `width`×`height` bytes (pngjs, the repo's one PNG library). */
function grayPng(width: number, height: number, bytes: ArrayLike<number>): Buffer {
  const png = { width, height, data: Buffer.from(Uint8Array.from(bytes)) } as unknown as PNG;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

const values = (path: string) => Array.from(loadNpy(path).data as Float32Array);

describe('blameboard explain / predict / evaluate on a folder of PNG images (mnist-cnn)', () => {
  let dir: string;
  let images: string;
  let mnist: Tensor;

  beforeAll(async () => {
    dir = scratchDir();
    images = join(dir, 'digits');
    mkdirSync(images);
    mnist = (await loadDataset('mnist', { split: 'test', count: 3, seed: 5, layout: 'nchw' })).inputs;
    // MNIST pixels are bytes / 255: the PNGs hold exactly the dataset's values. Names sort as rows 0, 1, 2.
    const x = mnist.data as Float32Array;
    for (let n = 0; n < 3; n++) {
      writeFileSync(join(images, `digit-${n}.png`), grayPng(28, 28, Array.from(x.subarray(n * 784, (n + 1) * 784), (v) => Math.round(v * 255))));
    }
    saveNpy(join(dir, 'x.npy'), mnist);
  });

  it('explains the images exactly as the same pixels given as .npy, rows in file-name order', async () => {
    const fromImages = await runCli('explain', '--model', 'mnist-cnn', '--inputs', images, '--method', 'gradient', '--out', join(dir, 'g-img.npy'));
    expect(fromImages.code, fromImages.stderr).toBe(0);
    expect(fromImages.stderr).toMatch(/inputs: 3 images as rows 0–2 in file-name order \(digit-0\.png, digit-1\.png, digit-2\.png\) → \[3, 1, 28, 28\]/);
    const fromNpy = await runCli('explain', '--model', 'mnist-cnn', '--inputs', join(dir, 'x.npy'), '--method', 'gradient', '--out', join(dir, 'g-npy.npy'));
    expect(fromNpy.code, fromNpy.stderr).toBe(0);
    const g = values(join(dir, 'g-img.npy'));
    expect(g.some((v) => v !== 0)).toBe(true);
    expect(g).toEqual(values(join(dir, 'g-npy.npy')));

    const predicted = await runCli('predict', '--model', 'mnist-cnn', '--inputs', images, '--out', join(dir, 'p-img.npy'));
    const predictedNpy = await runCli('predict', '--model', 'mnist-cnn', '--inputs', join(dir, 'x.npy'), '--out', join(dir, 'p-npy.npy'));
    expect([predicted.code, predictedNpy.code]).toEqual([0, 0]);
    expect(values(join(dir, 'p-img.npy'))).toEqual(values(join(dir, 'p-npy.npy')));
  });

  it('normalises with --preprocess, and LRP z-box bounds default to the normalised range of [0, 1] pixels', async () => {
    const preprocess = JSON.stringify(MNIST_NORM);
    const low = -MNIST_NORM.mean[0] / MNIST_NORM.std[0];
    const high = (1 - MNIST_NORM.mean[0]) / MNIST_NORM.std[0];
    const run = await runCli('explain', '--model', 'mnist-cnn', '--inputs', images, '--preprocess', preprocess, '--method', 'lrp', '--targets', '3', '--out', join(dir, 'lrp-img.npy'));
    expect(run.code, run.stderr).toBe(0);
    // The same normalised values as .npy, with those bounds given explicitly, and without them.
    const normalised = loadInputs(images, { preprocess: MNIST_NORM, inputShape: [1, 28, 28] }).inputs;
    (normalised.data as Float32Array).forEach((v, i) => {
      if (i % 97 === 0) expect(v).toBeCloseTo(((mnist.data as Float32Array)[i] - 0.1307) / 0.3081, 6);
    });
    saveNpy(join(dir, 'xn.npy'), normalised);
    const explicit = await runCli('explain', '--model', 'mnist-cnn', '--inputs', join(dir, 'xn.npy'), '--method', 'lrp', '--targets', '3',
      '--params', JSON.stringify({ low, high }), '--out', join(dir, 'lrp-explicit.npy'));
    const zooRange = await runCli('explain', '--model', 'mnist-cnn', '--inputs', join(dir, 'xn.npy'), '--method', 'lrp', '--targets', '3', '--out', join(dir, 'lrp-zoo.npy'));
    expect([explicit.code, zooRange.code]).toEqual([0, 0]);
    const lrp = values(join(dir, 'lrp-img.npy'));
    expect(lrp).toEqual(values(join(dir, 'lrp-explicit.npy')));
    // The zoo's own range [0, 1] is the wrong box for normalised inputs: a different map.
    const other = values(join(dir, 'lrp-zoo.npy'));
    const peak = Math.max(...lrp.map(Math.abs));
    expect(Math.max(...lrp.map((v, i) => Math.abs(v - other[i])))).toBeGreaterThan(1e-3 * peak);

    const evaluated = await runCli('evaluate', '--model', 'mnist-cnn', '--inputs', images, '--preprocess', preprocess, '--targets', '3',
      '--method', 'lrp', '--method-params', '{"composite": "epsilon"}', '--metric', 'conservation', '--out', join(dir, 'c.json'));
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).toMatch(/conservation\.relativeError = /);
  });

  it('resizes and centre-crops larger images to the model size', async () => {
    const big = join(dir, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'a.png'), grayPng(40, 32, Array.from({ length: 40 * 32 }, (_, i) => (i * 7) % 256)));
    writeFileSync(join(big, 'b.png'), grayPng(32, 36, Array.from({ length: 32 * 36 }, (_, i) => (i * 3) % 256)));
    const refused = await runCli('predict', '--model', 'mnist-cnn', '--inputs', big, '--out', join(dir, 'no.npy'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/'a\.png' preprocesses to 32×40 pixels but the model takes \[1, 28, 28\] \(C, H, W\); set preprocess\.resize and preprocess\.crop/);
    const ok = await runCli('explain', '--model', 'mnist-cnn', '--inputs', big, '--preprocess', '{"resize": 28, "crop": 28}', '--method', 'gradient-x-input', '--out', join(dir, 'big.npy'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(loadNpy(join(dir, 'big.npy')).shape).toEqual([2, 1, 28, 28]);
  });

  it('reads one array of an .npz', async () => {
    const run = await runCli('predict', '--model', 'mnist-cnn', '--inputs', join(NPZ, 'ramp-deflated.npz'), '--out', join(dir, 'npz.npy'));
    expect(run.code, run.stderr).toBe(0);
    expect(loadNpy(join(dir, 'npz.npy')).shape).toEqual([3, 10]);
    const wrong = await runCli('predict', '--model', 'mnist-cnn', '--inputs', `${join(NPZ, 'images-labels-deflated.npz')}:images`, '--out', join(dir, 'npz2.npy'));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/shape \[2,1,4,4\] but model 'mnist-cnn' expects \[N,1,28,28\]/);
  });

  it('refuses bad --preprocess specs with one line naming the field, exit 2, writing nothing', async () => {
    const out = join(dir, 'never.npy');
    const cases: [string, RegExp][] = [
      ['{"std": [0]}', /^blameboard explain: preprocess\.std\[0\] must be > 0, got 0$/],
      ['{"resize": 256, "crop": "224"}', /^blameboard explain: preprocess\.crop must be a whole number of pixels from 1 to 16384, got "224"$/],
      ['{"resize": 28, "mean": [0.5, 0.5, 0.5], "normalize": true}', /^blameboard explain: preprocess: unknown field 'normalize'; known fields: resize, crop, mean, std$/],
      ['{"mean": [0.5, 0.4, 0.3]}', /^blameboard explain: preprocess\.mean has 3 values but the inputs have 1 channel; give one value$/],
      ['{"crop": 64}', /^blameboard explain: preprocess\.crop 64×64 is larger than the 28×28 image it crops; resize to at least that first \('digit-0\.png'\)$/],
      ['{resize: 28}', /^blameboard explain: --preprocess is not valid JSON/],
    ];
    for (const [spec, message] of cases) {
      const run = await runCli('explain', '--model', 'mnist-cnn', '--inputs', images, '--preprocess', spec, '--method', 'gradient', '--out', out);
      expect(run.code, spec).toBe(2);
      expect(run.stderr, spec).toMatch(message);
    }
    const npy = await runCli('explain', '--model', 'mnist-cnn', '--inputs', join(dir, 'x.npy'), '--preprocess', '{"resize": 28}', '--method', 'gradient', '--out', out);
    expect(npy.code).toBe(2);
    expect(npy.stderr).toMatch(/preprocess applies to PNG\/JPEG images; '.*x\.npy' is a \.npy file/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
