import { float32, inferShapes, Rng, type Attribute, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';

/** Small hand-built graphs with seeded random weights, for tests. */
export function randomTensor(shape: number[], seed: number, scale = 0.5): Tensor {
  const rng = new Rng(seed);
  const t = float32(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.uniform(-scale, scale);
  return t;
}

export function node(name: string, opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): IrNode {
  return { name, opType, domain: '', inputs, outputs: [`${name}_out`], attributes };
}

export function graphOf(name: string, inputShape: number[], nodes: IrNode[], initializers: Record<string, Tensor>, outShape: number[]): IrGraph {
  const last = nodes[nodes.length - 1];
  last.outputs = ['logits'];
  const g: IrGraph = {
    name,
    irVersion: 7,
    opsetVersion: 13,
    producerName: 'test',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', ...inputShape] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', ...outShape] }],
    initializers: new Map(Object.entries(initializers)),
    nodes,
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

const ints = (value: number[]): Attribute => ({ type: 'ints', value });

/** input [N,2,8,8] → Conv(2→4, 3×3) → Relu → MaxPool 2 → Conv(4→3, 3×3) → Relu → Flatten → Gemm(3→5). */
export function tinyCnn(seed = 1): IrGraph {
  return graphOf(
    'tiny_cnn',
    [2, 8, 8],
    [
      node('conv1', 'Conv', ['input', 'w1', 'b1'], { kernel_shape: ints([3, 3]), pads: ints([0, 0, 0, 0]) }),
      node('relu1', 'Relu', ['conv1_out']),
      node('pool1', 'MaxPool', ['relu1_out'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('conv2', 'Conv', ['pool1_out', 'w2', 'b2'], { kernel_shape: ints([3, 3]), pads: ints([0, 0, 0, 0]) }),
      node('relu2', 'Relu', ['conv2_out']),
      node('flatten', 'Flatten', ['relu2_out'], { axis: { type: 'int', value: 1 } }),
      node('fc', 'Gemm', ['flatten_out', 'w3', 'b3'], { transB: { type: 'int', value: 1 } }),
    ],
    {
      w1: randomTensor([4, 2, 3, 3], seed),
      b1: randomTensor([4], seed + 1),
      w2: randomTensor([3, 4, 3, 3], seed + 2),
      b2: randomTensor([3], seed + 3),
      w3: randomTensor([5, 3], seed + 4),
      b3: randomTensor([5], seed + 5),
    },
    [5],
  );
}

/** input [N,6] → Gemm(6→7) → Relu → Gemm(7→3). */
export function tinyMlp(seed = 1): IrGraph {
  return graphOf(
    'tiny_mlp',
    [6],
    [
      node('fc1', 'Gemm', ['input', 'w1', 'b1'], { transB: { type: 'int', value: 1 } }),
      node('relu1', 'Relu', ['fc1_out']),
      node('fc2', 'Gemm', ['relu1_out', 'w2', 'b2'], { transB: { type: 'int', value: 1 } }),
    ],
    { w1: randomTensor([7, 6], seed), b1: randomTensor([7], seed + 1), w2: randomTensor([3, 7], seed + 2), b2: randomTensor([3], seed + 3) },
    [3],
  );
}
