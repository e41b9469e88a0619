/**
 * tf.grad through the tfjs executor on a LeNet-sized CNN, batch 256: the wasm backend (with
 * Blameboard's JS MaxPoolGrad) against the cpu backend. Run:
 *   cd packages/tfjs && npx vitest bench --run bench/tfjs-gradient.bench.ts
 */
import { bench, describe } from 'vitest';
import { Rng } from '@blameboard/core';
import { ensureBackend, getTf } from '../src/backend.js';
import { tfForward } from '../src/forward.js';
import { tfGradient } from '../src/gradient.js';
import { a, buildGraph, randn } from '@blameboard/testing/spec-graphs';

const rng = new Rng(1);
const graph = buildGraph({
  input: [1, 28, 28],
  nodes: [
    { op: 'Conv', inputs: ['x', 'W1', 'B1'], attrs: { pads: a.ints(2, 2, 2, 2) } },
    { op: 'Relu', inputs: ['y0'] },
    { op: 'MaxPool', inputs: ['y1'], attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2) } },
    { op: 'Conv', inputs: ['y2', 'W2', 'B2'] },
    { op: 'Relu', inputs: ['y3'] },
    { op: 'MaxPool', inputs: ['y4'], attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2) } },
    { op: 'Flatten', inputs: ['y5'] },
    { op: 'Gemm', inputs: ['y6', 'W3', 'B3'], attrs: { transB: a.int(1) } },
    { op: 'Relu', inputs: ['y7'] },
    { op: 'Gemm', inputs: ['y8', 'W4', 'B4'], attrs: { transB: a.int(1) } },
    { op: 'Relu', inputs: ['y9'] },
    { op: 'Gemm', inputs: ['y10', 'W5', 'B5'], attrs: { transB: a.int(1) } },
  ],
  inits: {
    W1: randn(rng, [6, 1, 5, 5], 0.3), B1: randn(rng, [6], 0.1),
    W2: randn(rng, [16, 6, 5, 5], 0.1), B2: randn(rng, [16], 0.1),
    W3: randn(rng, [120, 400], 0.05), B3: randn(rng, [120], 0.1),
    W4: randn(rng, [84, 120], 0.1), B4: randn(rng, [84], 0.1),
    W5: randn(rng, [10, 84], 0.1), B5: randn(rng, [10], 0.1),
  },
});
const x = randn(rng, [256, 1, 28, 28]);
const targets = Int32Array.from({ length: 256 }, (_, i) => i % 10);

async function use(backend: string) {
  const tf = await getTf();
  await ensureBackend(backend as 'wasm' | 'cpu');
  await tf.setBackend(backend);
}

describe('LeNet-sized CNN, batch 256', () => {
  for (const backend of ['wasm', 'cpu']) {
    bench(`tfGradient on ${backend}`, async () => {
      await use(backend);
      await tfGradient(graph, x, targets);
    }, { iterations: 5, warmupIterations: 1 });
    bench(`tfForward on ${backend}`, async () => {
      await use(backend);
      await tfForward(graph, x);
    }, { iterations: 5, warmupIterations: 1 });
  }
});
