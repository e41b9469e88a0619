import { loadModel, writeOnnx, type IrGraph, type LoadedModel, type Tensor } from '@blameboard/core';
import { flt, graphOf, int, ints, node, randomTensor } from './graphs.js';

/** A LoadedModel from an in-memory graph, through the same loader users go through. */
export function modelFrom(graph: IrGraph, id: string): Promise<LoadedModel> {
  return loadModel({ bytes: writeOnnx(graph), id });
}

function positive(t: Tensor, offset: number): Tensor {
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(d[i]) + offset;
  return t;
}

/** Conv(pad 1) → ReLU → MaxPool 2 → Conv → ReLU → AveragePool → Flatten → Gemm → ReLU → Gemm: [N,2,8,8] → [N,3]. */
export function smallCnn(seed = 1): IrGraph {
  return graphOf(
    [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
      node('Relu', ['c1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('Conv', ['p1', 'w2', 'b2'], ['c2'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
      node('Relu', ['c2'], ['r2']),
      node('AveragePool', ['r2'], ['p2'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('Flatten', ['p2'], ['f']),
      node('Gemm', ['f', 'w3', 'b3'], ['h'], { transB: int(1) }),
      node('Relu', ['h'], ['r3']),
      node('Gemm', ['r3', 'w4', 'b4'], ['y'], { transB: int(1) }),
    ],
    {
      w1: randomTensor([4, 2, 3, 3], seed, 0.5),
      b1: randomTensor([4], seed + 1, 0.1),
      w2: randomTensor([5, 4, 3, 3], seed + 2, 0.3),
      b2: randomTensor([5], seed + 3, 0.1),
      w3: randomTensor([6, 20], seed + 4, 0.4),
      b3: randomTensor([6], seed + 5, 0.1),
      w4: randomTensor([3, 6], seed + 6, 0.5),
      b4: randomTensor([3], seed + 7, 0.1),
    },
    ['N', 2, 8, 8],
  );
}

/** Conv → Softplus → AveragePool → Flatten → Gemm → Tanh → Gemm: a smooth [N,2,8,8] → [N,3] CNN. */
export function smoothCnn(seed = 1): IrGraph {
  return graphOf(
    [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
      node('Softplus', ['c1'], ['s1']),
      node('AveragePool', ['s1'], ['p1'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('Flatten', ['p1'], ['f']),
      node('Gemm', ['f', 'w2', 'b2'], ['h'], { transB: int(1) }),
      node('Tanh', ['h'], ['t']),
      node('Gemm', ['t', 'w3', 'b3'], ['y'], { transB: int(1) }),
    ],
    {
      w1: randomTensor([4, 2, 3, 3], seed, 0.5),
      b1: randomTensor([4], seed + 1, 0.1),
      w2: randomTensor([6, 16], seed + 2, 0.5),
      b2: randomTensor([6], seed + 3, 0.1),
      w3: randomTensor([3, 6], seed + 4, 1),
      b3: randomTensor([3], seed + 5, 0.1),
    },
    ['N', 2, 8, 8],
  );
}

/** Gemm → Tanh → Gemm → Softplus → Gemm: a smooth [N,5] → [N,3] net (quadrature converges fast). */
export function smoothMlp(seed = 1): IrGraph {
  return graphOf(
    [
      node('Gemm', ['x', 'w1', 'b1'], ['h1'], { transB: int(1) }),
      node('Tanh', ['h1'], ['a1']),
      node('Gemm', ['a1', 'w2', 'b2'], ['h2'], { transB: int(1) }),
      node('Softplus', ['h2'], ['a2']),
      node('Gemm', ['a2', 'w3', 'b3'], ['y'], { transB: int(1) }),
    ],
    {
      w1: randomTensor([8, 5], seed, 0.6),
      b1: randomTensor([8], seed + 1, 0.1),
      w2: randomTensor([6, 8], seed + 2, 0.5),
      b2: randomTensor([6], seed + 3, 0.1),
      w3: randomTensor([3, 6], seed + 4, 0.5),
      b3: randomTensor([3], seed + 5, 0.1),
    },
    ['N', 5],
  );
}

/**
 * Conv → BatchNorm → ReLU → Conv → residual Add → LeakyReLU → GlobalAveragePool → Flatten →
 * Gemm, with Sigmoid/Elu side branches concatenated: [N,1,6,6] → [N,4].
 */
export function residualNet(seed = 1): IrGraph {
  return graphOf(
    [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
      node('BatchNormalization', ['c1', 'gamma', 'beta', 'mean', 'var'], ['bn']),
      node('Relu', ['bn'], ['r1']),
      node('Conv', ['r1', 'w2'], ['c2'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
      node('Add', ['c2', 'r1'], ['res']),
      node('LeakyRelu', ['res'], ['l'], { alpha: flt(0.1) }),
      node('Sigmoid', ['l'], ['s']),
      node('Elu', ['l'], ['e']),
      node('Concat', ['s', 'e'], ['cat'], { axis: int(1) }),
      node('GlobalAveragePool', ['cat'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'w3', 'b3'], ['y'], { transB: int(1) }),
    ],
    {
      w1: randomTensor([3, 1, 3, 3], seed, 0.5),
      b1: randomTensor([3], seed + 1, 0.1),
      gamma: randomTensor([3], seed + 2, 1),
      beta: randomTensor([3], seed + 3, 0.2),
      mean: randomTensor([3], seed + 4, 0.2),
      var: positive(randomTensor([3], seed + 5, 1), 0.2),
      w2: randomTensor([3, 3, 3, 3], seed + 6, 0.3),
      w3: randomTensor([4, 6], seed + 7, 1),
      b3: randomTensor([4], seed + 8, 0.1),
    },
    ['N', 1, 6, 6],
  );
}
