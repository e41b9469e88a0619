import { fileURLToPath } from 'node:url';
import { float32, inferShapes, loadModel, Rng, writeOnnx, type IrGraph, type IrNode, type LoadedModel, type Tensor } from '@blameboard/core';

/** Tiny hand-built ONNX models for metric tests, loaded the way users load theirs. */
function node(opType: string, inputs: string[], outputs: string[], attributes: IrNode['attributes'] = {}): IrNode {
  return { name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes };
}

function graphOf(nodes: IrNode[], init: Record<string, Tensor>, inputShape: (number | string)[], outputs: number): IrGraph {
  const g: IrGraph = {
    name: 'metrics-test',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'blameboard-metrics-test',
    inputs: [{ name: 'x', dtype: 'float32', shape: inputShape }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', outputs] }],
    initializers: new Map(Object.entries(init)),
    nodes,
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

export async function modelOf(graph: IrGraph, id: string): Promise<LoadedModel> {
  return loadModel({ bytes: writeOnnx(graph), id });
}

/**
 * f(x) = W·flatten(x) + b with W [C, F] row-major (Gemm, transB = 1). `sampleShape` [F] or [C,H,W].
 */
export async function linearModel(weights: number[][], bias: number[], sampleShape: number[], id = 'linear'): Promise<LoadedModel> {
  const c = weights.length;
  const f = weights[0].length;
  const init = { W: float32([c, f], weights.flat()), B: float32([c], bias) };
  const nodes: IrNode[] = [];
  let input = 'x';
  if (sampleShape.length > 1) {
    nodes.push(node('Flatten', ['x'], ['flat'], { axis: { type: 'int', value: 1 } }));
    input = 'flat';
  }
  nodes.push(node('Gemm', [input, 'W', 'B'], ['y'], { transB: { type: 'int', value: 1 } }));
  return modelOf(graphOf(nodes, init, ['N', ...sampleShape], c), id);
}

/** A two-layer ReLU network with seeded weights: Gemm → Relu → Gemm. */
export async function mlpModel(features: number, hidden: number, classes: number, seed: number, id = 'mlp'): Promise<LoadedModel> {
  const rng = new Rng(seed);
  const t = (shape: number[], std: number) => float32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, std)));
  const init = { W1: t([hidden, features], 1 / Math.sqrt(features)), B1: t([hidden], 0.1), W2: t([classes, hidden], 1 / Math.sqrt(hidden)), B2: t([classes], 0.1) };
  const nodes = [
    node('Gemm', ['x', 'W1', 'B1'], ['h'], { transB: { type: 'int', value: 1 } }),
    node('Relu', ['h'], ['a']),
    node('Gemm', ['a', 'W2', 'B2'], ['y'], { transB: { type: 'int', value: 1 } }),
  ];
  return modelOf(graphOf(nodes, init, ['N', features], classes), id);
}

/** Seeded uniform inputs in [low, high). */
export function uniformInputs(shape: number[], seed: number, low = 0, high = 1): Tensor {
  const t = float32(shape);
  new Rng(seed).fillUniform(t.data as Float32Array, low, high);
  return t;
}

/** The reference pair of seed 004 (Sundararajan et al.): relu(relu(x1) − 1 − relu(x2)) and relu(relu(x1 − 1) − relu(x2)). */
export async function equivalentReferencePair(): Promise<{ a: LoadedModel; b: LoadedModel }> {
  const dir = new URL('../fixtures/', import.meta.url);
  const load = (name: string) => loadModel(fileURLToPath(new URL(name, dir)));
  return { a: await load('equivalent-a.onnx'), b: await load('equivalent-b.onnx') };
}
