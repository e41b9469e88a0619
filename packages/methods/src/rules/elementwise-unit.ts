import type { Dim, IrGraph, IrNode } from '@blameboard/core';
import { ACTIVATIONS } from './gradient/activation.js';
import { consumersOf, producerOf } from './graph-index.js';

/**
 * An elementwise nonlinearity of one activation that an exporter spelt over several nodes:
 * y = φ(v) with a product or quotient of two functions of the same v — SiLU as v·σ(v), the
 * HardSwish decompositions v·HardSigmoid(v) and v·Clip(v + 3, 0, 6)/6, GELU as
 * v·(1 + erf(v/√2))/2, Mish. The methods treat it as the one activation it is (LRP passes
 * relevance through it, DeepLIFT rescales it as a whole), as Zennit and Captum see the module.
 */
export interface ElementwiseUnit {
  /** v: the activation φ is applied to. */
  source: string;
  /** y = φ(v), the output of `sink`. */
  output: string;
  /** The Mul or Div of two functions of v that closes the unit. */
  sink: IrNode;
  /** Every node of the unit in graph order, `sink` last. */
  nodes: IrNode[];
}

/** Elementwise maps of one input (the IR's activations, and what only copies or negates). */
const UNARY = new Set([...ACTIVATIONS, 'Identity', 'Neg', 'Cast']);
const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div']);

function sameShape(a: Dim[] | undefined, b: Dim[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The elementwise step that produced `value` from one live input, or undefined: a unary
 * activation, or arithmetic with a constant that does not broadcast the live input to a larger shape.
 */
function elementwiseStep(graph: IrGraph, value: string, live: (v: string) => boolean): { node: IrNode; from: string } | undefined {
  const node = producerOf(graph, value);
  if (!node || (node.domain !== '' && node.domain !== 'ai.onnx') || node.outputs[0] !== value) return undefined;
  if (UNARY.has(node.opType)) return live(node.inputs[0]) && node.inputs.slice(1).every((i) => !i || !live(i)) ? { node, from: node.inputs[0] } : undefined;
  if (!ARITHMETIC.has(node.opType)) return undefined;
  const liveInputs = node.inputs.filter((i) => i && live(i));
  if (liveInputs.length !== 1) return undefined;
  const from = liveInputs[0];
  return sameShape(graph.values.get(from)?.shape, graph.values.get(value)?.shape) ? { node, from } : undefined;
}

/** `value` and the values it was computed from by elementwise steps, nearest first, with the steps. */
function chain(graph: IrGraph, value: string, live: (v: string) => boolean): { values: string[]; steps: IrNode[] } {
  const values = [value];
  const steps: IrNode[] = [];
  for (let step = elementwiseStep(graph, value, live); step && steps.length < 64; step = elementwiseStep(graph, step.from, live)) {
    steps.push(step.node);
    values.push(step.from);
  }
  return { values, steps };
}

/**
 * The elementwise unit a Mul or Div of two live values closes, if both are elementwise
 * functions of one shared activation v, the result has v's shape, and no inner value is used
 * outside the unit. `live` tells which values depend on the model input. Call it while `graph`
 * holds the forward pass only (RuleSet.ruleFor): its producers and consumers are cached per graph.
 */
export function elementwiseUnit(graph: IrGraph, sink: IrNode, live: (v: string) => boolean): ElementwiseUnit | undefined {
  if ((sink.opType !== 'Mul' && sink.opType !== 'Div') || sink.inputs.length !== 2) return undefined;
  const [a, b] = sink.inputs;
  if (!live(a) || !live(b)) return undefined;
  const ca = chain(graph, a, live);
  const cb = chain(graph, b, live);
  const source = ca.values.find((v) => cb.values.includes(v));
  if (source === undefined) return undefined;
  const output = sink.outputs[0];
  if (!sameShape(graph.values.get(source)?.shape, graph.values.get(output)?.shape)) return undefined;
  const inner = new Set<IrNode>([...ca.steps.slice(0, ca.values.indexOf(source)), ...cb.steps.slice(0, cb.values.indexOf(source))]);
  const members = new Set<IrNode>([...inner, sink]);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  for (const n of inner) {
    for (const o of n.outputs) {
      if (!o) continue;
      if (graphOutputs.has(o) || consumersOf(graph, o).some((c) => !members.has(c))) return undefined;
    }
  }
  const nodes = graph.nodes.filter((n) => members.has(n));
  return { source, output, sink, nodes };
}

const liveSets = new WeakMap<IrGraph, Set<string>>();

/** Whether a value depends on the model input (the graph's first input), per graph. */
export function liveIn(graph: IrGraph): (value: string) => boolean {
  let reached = liveSets.get(graph);
  if (!reached) {
    reached = new Set([graph.inputs[0].name]);
    for (const node of graph.nodes) {
      if (node.inputs.some((i) => i && reached!.has(i))) for (const o of node.outputs) if (o) reached.add(o);
    }
    liveSets.set(graph, reached);
  }
  const set = reached;
  return (v) => set.has(v);
}
