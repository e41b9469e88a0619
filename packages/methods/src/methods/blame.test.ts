import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, type Tensor } from '@blameboard/core';
import { explain } from '../registry.js';
import { graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { modelFrom } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

const at = (t: Tensor, i: number) => t.data[i] as number;

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** One hidden layer, by hand: z¹ = W1 x + b1, h = relu(z¹), f = W2 h + b2. Returns logits and δ¹ for a seed δ. */
function byHand(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: number[], hidden: number, classes: number) {
  const z1 = Array.from({ length: hidden }, (_, j) => x.reduce((s, xi, i) => s + at(w1, j * x.length + i) * xi, at(b1, j)));
  const h = z1.map((v) => Math.max(v, 0));
  const f = Array.from({ length: classes }, (_, k) => h.reduce((s, hj, j) => s + at(w2, k * hidden + j) * hj, at(b2, k)));
  const backToHidden = (delta: number[]) => z1.map((z, j) => (z > 0 ? delta.reduce((s, d, k) => s + d * at(w2, k * hidden + j), 0) : 0));
  return { f, backToHidden };
}

describe('blame', () => {
  const [features, hidden, classes] = [5, 7, 3];
  const w1 = randomTensor([hidden, features], 1);
  const b1 = randomTensor([hidden], 2, 0.2);
  const w2 = randomTensor([classes, hidden], 3);
  const b2 = randomTensor([classes], 4, 0.2);
  const graph = graphOf(
    [node('Gemm', ['x', 'w1', 'b1'], ['z1'], { transB: int(1) }), node('Relu', ['z1'], ['h']), node('Gemm', ['h', 'w2', 'b2'], ['y'], { transB: int(1) })],
    { w1, b1, w2, b2 },
    ['N', features],
  );
  const x = randomTensor([4, features], 5);
  const targets = Int32Array.of(0, 2, 1, 1);
  const rows = Array.from({ length: 4 }, (_, i) => Array.from(x.data as Float32Array).slice(i * features, (i + 1) * features));
  const nets = rows.map((r) => byHand(w1, b1, w2, b2, r, hidden, classes));

  function expected(pBar: (i: number) => number[]): number[] {
    return rows.flatMap((r, i) => {
      const delta = pBar(i).map((p, k) => p - (k === targets[i] ? 1 : 0));
      const total = nets[i].backToHidden(delta).reduce((s, v) => s + v, 0);
      return r.map((xi) => -xi * total);
    });
  }

  it('prior prediction: −x_i Σ_j δ¹_j with δ = softmax f(x) − onehot(t)', async () => {
    const model = await modelFrom(graph, 'blame-mlp');
    const { attributions } = await explain({ model, inputs: x, targets, method: 'blame', params: { prior: 'prediction' } });
    const want = expected((i) => softmax(nets[i].f));
    Array.from(attributions.data as Float32Array).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
  });

  it('prior dataset: p̄ is the mean softmax over the reference set', async () => {
    const model = await modelFrom(graph, 'blame-mlp');
    const reference = randomTensor([6, features], 9);
    const refRows = Array.from({ length: 6 }, (_, i) => Array.from(reference.data as Float32Array).slice(i * features, (i + 1) * features));
    const probs = refRows.map((r) => softmax(byHand(w1, b1, w2, b2, r, hidden, classes).f));
    const pBar = Array.from({ length: classes }, (_, k) => probs.reduce((s, p) => s + p[k], 0) / probs.length);
    const { attributions } = await explain({ model, inputs: x, targets, method: 'blame', data: { reference } });
    const want = expected(() => pBar);
    Array.from(attributions.data as Float32Array).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
  });

  it('for a conv first layer sums δ¹ over every output position whose window covers the input', async () => {
    // Conv 2×2 stride 1 on a 3×3 image, 2 output channels, then Flatten → Gemm.
    const cw = randomTensor([2, 1, 2, 2], 11);
    const gw = randomTensor([2, 8], 12);
    const conv = graphOf(
      [node('Conv', ['x', 'cw'], ['c'], { kernel_shape: ints([2, 2]) }), node('Flatten', ['c'], ['f']), node('Gemm', ['f', 'gw'], ['y'], { transB: int(1) })],
      { cw, gw },
      ['N', 1, 3, 3],
    );
    const model = await modelFrom(conv, 'blame-conv');
    const img = randomTensor([1, 1, 3, 3], 13);
    const { attributions } = await explain({ model, inputs: img, targets: Int32Array.of(1), method: 'blame', params: { prior: 'prediction' } });
    // δ¹ = gwᵀ δ (no nonlinearity after the conv), indexed [channel, row, col] over the 2×2 output.
    const logits = [0, 1].map((k) => {
      let s = 0;
      for (let o = 0; o < 8; o++) {
        const [ch, r, c] = [Math.floor(o / 4), Math.floor((o % 4) / 2), o % 2];
        let z = 0;
        for (let u = 0; u < 2; u++) for (let v = 0; v < 2; v++) z += at(cw, ch * 4 + u * 2 + v) * at(img, (r + u) * 3 + c + v);
        s += at(gw, k * 8 + o) * z;
      }
      return s;
    });
    const delta = softmax(logits).map((p, k) => p - (k === 1 ? 1 : 0));
    const d1 = Array.from({ length: 8 }, (_, o) => delta.reduce((s, d, k) => s + d * at(gw, k * 8 + o), 0));
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let connected = 0;
        for (let o = 0; o < 8; o++) {
          const [r, c] = [Math.floor((o % 4) / 2), o % 2];
          if (i - r >= 0 && i - r < 2 && j - c >= 0 && j - c < 2) connected += d1[o];
        }
        expect(at(attributions, i * 3 + j)).toBeCloseTo(-at(img, i * 3 + j) * connected, 5);
      }
    }
  });
});
