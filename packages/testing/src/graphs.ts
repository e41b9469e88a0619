import { expect } from 'vitest';
import {
  compileExplanation,
  float32,
  inferShapes,
  OnnxSession,
  Rng,
  writeOnnx,
  type CompileOptions,
  type Dim,
  type IrGraph,
  type IrNode,
  type RuleSet,
  type Tensor,
} from '@blameboard/core';

/** Small hand-built graphs for rule tests: one input `x`, one output `y`. */
export function node(opType: string, inputs: string[], outputs: string[], attributes: IrNode['attributes'] = {}): IrNode {
  return { name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes };
}

export const ints = (value: number[]) => ({ type: 'ints' as const, value });
export const int = (value: number) => ({ type: 'int' as const, value });
export const flt = (value: number) => ({ type: 'float' as const, value });
export const str = (value: string) => ({ type: 'string' as const, value });

export function int64(values: number[]): Tensor {
  return { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

export function graphOf(nodes: IrNode[], init: Record<string, Tensor>, inputShape: Dim[], opsetVersion = 13, output = 'y'): IrGraph {
  const g: IrGraph = {
    name: 'test',
    irVersion: 8,
    opsetVersion,
    producerName: 'blameboard-test',
    inputs: [{ name: 'x', dtype: 'float32', shape: inputShape }],
    outputs: [{ name: output, dtype: 'float32', shape: [] }],
    initializers: new Map(Object.entries(init)),
    nodes,
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

export function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const t = float32(shape);
  new Rng(seed).fillNormal(t.data as Float32Array, 0, scale);
  return t;
}

export async function runOnce(onnx: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await OnnxSession.create(onnx, { intraOpNumThreads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** The graph's own forward pass on onnxruntime. */
export async function forwardOf(graph: IrGraph, x: Tensor): Promise<Tensor> {
  const out = await runOnce(writeOnnx(graph), { x });
  return out[graph.outputs[0].name];
}

/** Compiles with `rules` and returns the attribution for the given seed (and baseline). */
export async function compiledRun(
  graph: IrGraph,
  rules: RuleSet,
  x: Tensor,
  seed: Tensor,
  opts: Partial<CompileOptions> & { baseline?: Tensor } = {},
): Promise<Record<string, Tensor> & { attribution: Tensor }> {
  const compiled = compileExplanation(graph, rules, { start: 'seed-input', ...opts, withBaseline: opts.baseline !== undefined });
  const feeds: Record<string, Tensor> = { [compiled.inputNames.input]: x, [compiled.inputNames.seed]: seed };
  if (opts.baseline) feeds[compiled.inputNames.baseline!] = opts.baseline;
  const out = await runOnce(writeOnnx(compiled.graph), feeds);
  return { ...out, attribution: out[compiled.outputNames[0]] };
}

export function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i] as number) * (b.data[i] as number);
  return s;
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return float32(a.shape, Array.from(a.data as Float32Array, (v, i) => v - (b.data[i] as number)));
}

/** Symbolic dims (the batch) become n. */
export function concreteShape(shape: Dim[], n: number): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : n));
}

/**
 * Dot-product test of an affine graph y = Lx + c: ⟨s, y(v) − y(0)⟩ must equal ⟨Lᵀs, v⟩ for the
 * rule's adjoint Lᵀ. Returns both sides.
 */
export async function adjointCheck(graph: IrGraph, rules: RuleSet, n: number, seedValue: number): Promise<{ forward: number; backward: number }> {
  const xShape = concreteShape(graph.inputs[0].shape, n);
  const v = randomTensor(xShape, seedValue);
  const y = await forwardOf(graph, v);
  const y0 = await forwardOf(graph, float32(xShape));
  const s = randomTensor(y.shape, seedValue + 1000);
  const { attribution } = await compiledRun(graph, rules, v, s);
  expect(attribution.shape).toEqual(xShape);
  return { forward: dot(s, sub(y, y0)), backward: dot(attribution, v) };
}

/**
 * Central finite differences of ⟨s, y(x)⟩ for every input element (one forward run per
 * perturbation, so graphs that mix the batch are fine). Exact up to rounding for quadratics and
 * for piecewise-linear maps away from kinks.
 */
export async function finiteDifference(graph: IrGraph, x: Tensor, s: Tensor, eps: number): Promise<Float64Array> {
  const session = await OnnxSession.create(writeOnnx(graph), { intraOpNumThreads: 1 });
  const outName = graph.outputs[0].name;
  const value = async (i: number, delta: number) => {
    const xp = float32(x.shape, x.data as Float32Array);
    (xp.data as Float32Array)[i] += delta;
    return dot(s, (await session.run({ x: xp }))[outName]);
  };
  try {
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) out[i] = ((await value(i, eps)) - (await value(i, -eps))) / (2 * eps);
    return out;
  } finally {
    await session.dispose();
  }
}
