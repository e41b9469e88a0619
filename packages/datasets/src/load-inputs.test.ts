import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { float32, InputError, saveNpy, tensor, UsageError } from '@blameboard/core';
import { loadInputs, type LoadInputsOptions } from './load-inputs.js';
import { encodeJpeg, encodePng } from '@blameboard/testing/images';

const NPZ = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'core', 'fixtures', 'npz');
const root = mkdtempSync(join(tmpdir(), 'blameboard-inputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;

/** A fresh folder holding the given files. */
function folder(files: Record<string, Uint8Array | string>): string {
  const dir = join(root, `f${folders++}`);
  mkdirSync(dir);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

function refusal(path: string, options: LoadInputsOptions = {}): string {
  try {
    loadInputs(path, options);
  } catch (e) {
    expect(e instanceof InputError || e instanceof UsageError, String(e)).toBe(true);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error(`expected ${path} to be refused`);
}

const gray = (w: number, h: number, f: (p: number) => number) => encodePng(w, h, Array.from({ length: w * h }, (_, p) => f(p)), 1);

describe('loadInputs: a folder of images', () => {
  it('reads gray PNGs and a gray JPEG in sorted name order, one row each, pixels / 255', () => {
    const dir = folder({
      'b.png': gray(28, 28, () => 200),
      'a.png': gray(28, 28, (p) => p % 256),
      '10.png': gray(28, 28, () => 0),
      'c.jpg': encodeJpeg(28, 28, new Array(28 * 28 * 3).fill(51)),
      '.DS_Store': 'not an image, hidden, skipped',
    });
    const loaded = loadInputs(dir, { inputShape: [1, 28, 28] });
    expect(loaded.format).toBe('images');
    expect(loaded.files).toEqual(['10.png', 'a.png', 'b.png', 'c.jpg'].map((n) => join(dir, n)));
    expect(loaded.inputs.shape).toEqual([4, 1, 28, 28]);
    const x = loaded.inputs.data as Float32Array;
    expect(x[0]).toBe(0);
    for (let p = 0; p < 784; p++) expect(x[784 + p]).toBe(Math.fround((p % 256) / 255));
    expect(x[2 * 784 + 5]).toBe(Math.fround(200 / 255));
    // A flat gray JPEG at quality 100 decodes to its own value.
    expect(x[3 * 784 + 300]).toBe(Math.fround(51 / 255));
    expect(loaded.pixelRange).toEqual({ low: [0], high: [1] });
  });

  it('resizes the shorter side, centre-crops and normalises per channel, by hand', () => {
    // One 2×4 RGB image (h = 2, w = 4). resize 1 → 1×2 (⌊1·4/2⌋ = 2); rows 2 → 1 weigh ½, ½;
    // columns 4 → 2 weigh 3:3:1:0 / 7 and 0:1:3:3 / 7. crop 1 → left = round((2 − 1)/2) = round(0.5) = 0.
    const rgb = [];
    const value = (y: number, x: number, c: number) => 10 + 40 * y + 20 * x + 7 * c;
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) rgb.push(value(y, x, c));
    const dir = folder({ 'img.png': encodePng(4, 2, rgb, 3) });
    const preprocess = { resize: 1, crop: 1, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5] };
    const loaded = loadInputs(dir, { preprocess, inputShape: [3, 1, 1] });
    expect(loaded.inputs.shape).toEqual([1, 3, 1, 1]);
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let y = 0; y < 2; y++) v += (0.5 * (3 * value(y, 0, c) + 3 * value(y, 1, c) + value(y, 2, c))) / 7;
      const want = (v / 255 - preprocess.mean[c]) / preprocess.std[c];
      expect((loaded.inputs.data as Float32Array)[c]).toBeCloseTo(want, 6);
    }
    const { low, high } = loaded.pixelRange!;
    expect(low.map((l) => +l.toFixed(12))).toEqual([-2.5, -1.6, -0.6]);
    expect(high.map((h) => +h.toFixed(12))).toEqual([2.5, 2.4, 1.4]);
    expect(loaded.preprocess).toEqual(preprocess);
  });

  it('crops an ImageNet-like geometry to the model size and lays flat models out channel-major', () => {
    const rgb = (w: number, h: number) => encodePng(w, h, Array.from({ length: w * h * 3 }, (_, i) => (i * 13) % 256), 3);
    const dir = folder({ 'wide.png': rgb(40, 30), 'tall.png': rgb(30, 45) });
    const nchw = loadInputs(dir, { preprocess: { resize: 20, crop: 16 }, inputShape: [3, 16, 16] });
    expect(nchw.inputs.shape).toEqual([2, 3, 16, 16]);
    const flat = loadInputs(dir, { preprocess: { resize: 20, crop: 16 }, inputShape: [768] });
    expect(flat.inputs.shape).toEqual([2, 768]);
    expect(Array.from(flat.inputs.data as Float32Array)).toEqual(Array.from(nchw.inputs.data as Float32Array));
    // Without a model shape images are RGB at their preprocessed size.
    expect(loadInputs(dir, { preprocess: { resize: 20, crop: [10, 12] } }).inputs.shape).toEqual([2, 3, 10, 12]);
  });

  it('keeps 16-bit PNG precision, replicates gray into RGB, and keeps alpha for a 4-channel model', () => {
    const deep = folder({ 'd.png': encodePng(1, 1, [1000], 1, 16) });
    expect((loadInputs(deep, { inputShape: [1, 1, 1] }).inputs.data as Float32Array)[0]).toBe(Math.fround(1000 / 65535));
    const g = folder({ 'g.png': gray(2, 2, (p) => p * 50) });
    expect(Array.from(loadInputs(g, { inputShape: [3, 2, 2] }).inputs.data as Float32Array)).toEqual(
      [0, 1, 2].flatMap(() => [0, 50, 100, 150].map((v) => Math.fround(v / 255))),
    );
    const rgba = folder({ 'a.png': encodePng(1, 1, [255, 0, 51, 102], 4) });
    expect(Array.from(loadInputs(rgba, { inputShape: [4, 1, 1] }).inputs.data as Float32Array)).toEqual([1, 0, 0.2, 0.4].map(Math.fround));
  });

  it('reads a single image file and follows a symlinked folder', () => {
    const dir = folder({ 'one.png': gray(3, 3, (p) => p) });
    const single = loadInputs(join(dir, 'one.png'), { inputShape: [1, 3, 3] });
    expect([single.inputs.shape, single.files]).toEqual([[1, 1, 3, 3], [join(dir, 'one.png')]]);
    const link = join(root, `link${folders++}`);
    symlinkSync(dir, link);
    expect(loadInputs(link, { inputShape: [1, 3, 3] }).inputs.shape).toEqual([1, 1, 3, 3]);
  });
});

describe('loadInputs refusals, one line each', () => {
  it('refuses files that are not images, subfolders and empty folders instead of skipping them', () => {
    const dir = folder({ 'a.png': gray(2, 2, () => 0), 'labels.csv': '0\n', 'b.webp': 'x' });
    mkdirSync(join(dir, 'cats'));
    expect(refusal(dir)).toMatch(/holds 'b\.webp', 'cats' \(a subfolder\), 'labels\.csv': only \.png, \.jpg and \.jpeg files are read \(hidden files are skipped\)$/);
    expect(refusal(folder({ '.hidden.png': gray(2, 2, () => 0) }))).toMatch(/holds no \.png, \.jpg or \.jpeg images/);
    // Control characters in a file name are shown escaped, never sent to the terminal.
    const nasty = refusal(folder({ 'a\nb\u001b[31m.gif': 'x' }));
    expect(nasty).toContain("'a\\x0ab\\x1b[31m.gif'");
    expect(nasty).not.toMatch(/[\u0000-\u001f]/);
    expect(refusal(folder({ 'fake.png': 'GIF89a' }))).toMatch(/'fake\.png' is neither PNG nor JPEG data/);
    expect(refusal(join(root, 'missing'))).toMatch(/cannot read inputs .*missing': no such file or folder/);
  });

  it('refuses a FIFO given as inputs or found in a folder without reading it (which would block)', () => {
    const dir = folder({ 'a.png': gray(2, 2, () => 0) });
    execFileSync('mkfifo', [join(dir, 'pipe.png')]);
    expect(refusal(dir)).toMatch(/holds 'pipe\.png' \(not a regular file\)/);
    expect(refusal(join(dir, 'pipe.png'))).toMatch(/inputs '.*pipe\.png' are not a regular file/);
  });

  it('says which preprocess field to set when the size does not fit the model or the images differ', () => {
    const dir = folder({ 'a.png': gray(32, 32, () => 9) });
    expect(refusal(dir, { inputShape: [1, 28, 28] })).toMatch(/'a\.png' preprocesses to 32×32 pixels but the model takes \[1, 28, 28\] \(C, H, W\); set preprocess\.resize and preprocess\.crop/);
    expect(refusal(dir, { inputShape: [1, 28, 28], preprocess: { crop: 40 } })).toMatch(/^preprocess\.crop 40×40 is larger than the 32×32 image it crops.*\('a\.png'\)$/);
    expect(refusal(dir, { inputShape: [100] })).toMatch(/100 flat features are not 1, 3 or 4 channels/);
    expect(refusal(dir, { inputShape: [2, 32, 32] })).toMatch(/the model takes 2 channels per image; images give 1 \(grayscale\), 3 \(RGB\) or 4 \(RGBA\)/);
    const mixed = folder({ 'a.png': gray(32, 32, () => 9), 'b.png': gray(40, 32, () => 9) });
    expect(refusal(mixed, { preprocess: { resize: 28 } })).toMatch(/'b\.png' \(40×32\) preprocesses to 28×35 pixels but 'a\.png' to 28×28; give preprocess\.crop/);
    expect(loadInputs(mixed, { preprocess: { resize: 28, crop: 28 }, inputShape: [1, 28, 28] }).inputs.shape).toEqual([2, 1, 28, 28]);
  });

  it('refuses colour for a grayscale model, transparency for RGB, and a mean of the wrong length', () => {
    const colour = folder({ 'c.png': encodePng(1, 1, [10, 20, 30], 3) });
    expect(refusal(colour, { inputShape: [1, 1, 1] })).toMatch(/image 'c\.png' has colour but the model takes 1 channel; convert the images to grayscale first/);
    const seeThrough = folder({ 't.png': encodePng(1, 1, [10, 20, 30, 0], 4) });
    expect(refusal(seeThrough, { inputShape: [3, 1, 1] })).toMatch(/image 't\.png' has transparent pixels but the model takes RGB; flatten it onto a background first/);
    expect(refusal(colour, { inputShape: [3, 1, 1], preprocess: { mean: [0.5, 0.5] } })).toMatch(/^preprocess\.mean has 2 values but the inputs have 3 channels; give 1 or 3$/);
    expect(refusal(colour, { preprocess: { std: [0] } })).toBe('preprocess.std[0] must be > 0, got 0');
  });
});

describe('loadInputs: .npy and .npz', () => {
  it('reads float32 and float64 .npy (converted) and refuses integers and a preprocess spec', () => {
    const dir = folder({});
    saveNpy(join(dir, 'x.npy'), float32([2, 2], [1, 2, 3, 4]));
    saveNpy(join(dir, 'd.npy'), tensor('float64', [1, 2], Float64Array.from([0.1, -2])));
    saveNpy(join(dir, 'i.npy'), tensor('int32', [2], Int32Array.from([1, 2])));
    expect(loadInputs(join(dir, 'x.npy'))).toMatchObject({ format: 'npy', inputs: { dtype: 'float32', shape: [2, 2] } });
    const d = loadInputs(join(dir, 'd.npy')).inputs;
    expect([d.dtype, Array.from(d.data as Float32Array)]).toEqual(['float32', [Math.fround(0.1), -2]]);
    expect(refusal(join(dir, 'i.npy'))).toMatch(/have dtype int32; models take float32 \(float64 is converted\)/);
    expect(refusal(join(dir, 'x.npy'), { preprocess: { resize: 2 } })).toMatch(/preprocess applies to PNG\/JPEG images; '.*x\.npy' is a \.npy file/);
  });

  it('picks an .npz array by name (option or path suffix) or the only one, converting float64', () => {
    const images = loadInputs(join(NPZ, 'images-labels-deflated.npz:images'));
    expect([images.format, images.array, images.inputs.shape]).toEqual(['npz', 'images', [2, 1, 4, 4]]);
    expect(loadInputs(join(NPZ, 'images-labels-deflated.npz'), { array: 'images' }).inputs.shape).toEqual([2, 1, 4, 4]);
    expect(loadInputs(join(NPZ, 'single-stored.npz')).inputs.shape).toEqual([2, 3]);
    expect(Array.from(loadInputs(join(NPZ, 'positional.npz:arr_0')).inputs.data as Float32Array)).toEqual([0, 0.5, 1, 1.5]);
    expect(refusal(join(NPZ, 'images-labels-deflated.npz'))).toMatch(/holds 2 arrays \('images', 'labels'\); name one/);
    expect(refusal(join(NPZ, 'images-labels-deflated.npz:labels'))).toMatch(/array 'labels' of .* have dtype int64/);
    expect(refusal(join(NPZ, 'single-stored.npz:y'))).toMatch(/no array 'y'; the archive holds 'x'/);
  });
});
