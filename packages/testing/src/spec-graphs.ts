import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Attribute, type Dim, inferShapes, type IrGraph, type IrNode, readOnnx, Rng, sizeOf, type Tensor, UnsupportedOperatorError } from '@blameboard/core';

/** Small IR graphs built by hand, so every operator variant can be held against onnxruntime. */

export const a = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (...value: number[]): Attribute => ({ type: 'ints', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  str: (value: string): Attribute => ({ type: 'string', value }),
};

export interface GraphSpec {
  /** Per-sample input shape; the batch dimension is the symbolic 'N'. */
  input: number[];
  nodes: { op: string; inputs: string[]; output?: string; outputs?: string[]; attrs?: Record<string, Attribute> }[];
  inits?: Record<string, Tensor>;
  opset?: number;
  /** The output rows are not one per sample (e.g. Flatten with axis 2): no per-sample gradient. */
  mixesBatch?: boolean;
  /**
   * false when onnxruntime has no float64 kernel for an operator of the graph (Erf, Resize), so
   * the float64 finite differences cannot be taken; such ops are held against onnxruntime's
   * forward pass here and against the compiled gradient graphs in packages/methods.
   */
  float64?: boolean;
}

/** Nodes chain by default: each node's output is 'y<i>', the last one is the graph output. */
export function buildGraph(spec: GraphSpec): IrGraph {
  const nodes: IrNode[] = spec.nodes.map((n, i) => ({
    name: `${n.op.toLowerCase()}_${i}`,
    opType: n.op,
    domain: '',
    inputs: n.inputs,
    outputs: n.outputs ?? [n.output ?? `y${i}`],
    attributes: n.attrs ?? {},
  }));
  const shape: Dim[] = ['N', ...spec.input];
  const graph: IrGraph = {
    name: 'test',
    irVersion: 8,
    opsetVersion: spec.opset ?? 13,
    producerName: 'blameboard-test',
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [{ name: nodes[nodes.length - 1].outputs[0], dtype: 'float32', shape: [] }],
    initializers: new Map(Object.entries(spec.inits ?? {})),
    nodes,
    values: new Map(),
  };
  try {
    // Declares the output's real rank, which onnxruntime checks against (warning otherwise).
    inferShapes(graph);
  } catch {
    // graphs that test refusals may hold operators shape inference does not know
  }
  return graph;
}

export function randn(rng: Rng, shape: number[], std = 1): Tensor {
  const data = new Float32Array(sizeOf(shape));
  rng.fillNormal(data, 0, std);
  return { dtype: 'float32', shape, data };
}

export function int64(values: number[]): Tensor {
  return { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

export const here = dirname(fileURLToPath(import.meta.url));
export const REFERENCE_DIR = '/work/shared/reference';
const CORE_FIXTURES = join(here, '..', '..', 'core', 'fixtures');

/** Every reference model and every ONNX fixture of core (their set grows as models are added). */
export function referenceModels(): { name: string; bytes: Uint8Array; graph: IrGraph }[] {
  const dirs = [join(CORE_FIXTURES, 'reference'), CORE_FIXTURES, REFERENCE_DIR];
  const seen = new Set<string>();
  const out: { name: string; bytes: Uint8Array; graph: IrGraph }[] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
    } catch {
      continue;
    }
    for (const f of files.sort()) {
      if (seen.has(f)) continue;
      seen.add(f);
      const bytes = readFileSync(join(dir, f));
      let graph: IrGraph;
      try {
        graph = readOnnx(bytes, { baseDir: dir });
      } catch (e) {
        // fixtures that exist to be refused (e.g. unsupported-op.onnx) are no models to run
        if (e instanceof UnsupportedOperatorError) continue;
        throw e;
      }
      out.push({ name: f, bytes, graph });
    }
  }
  return out;
}

/** A concrete per-sample input shape of a graph (symbolic dims other than the batch → fail loudly). */
export function sampleShape(graph: IrGraph): number[] {
  return graph.inputs[0].shape.slice(1).map((d) => {
    if (typeof d !== 'number') throw new Error(`graph ${graph.name} has a symbolic non-batch input dim '${d}'`);
    return d;
  });
}
