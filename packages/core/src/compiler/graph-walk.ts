import type { IrGraph, IrNode } from '../ir/types.js';

const LINEAR_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/**
 * Float values that depend on `start` (including it), following nodes in topological order.
 * Integer and boolean values (shapes, indices, masks) carry no gradient or relevance, so
 * dependence stops at them: a Shape(x)→Reshape chain does not put its shape ops on the path.
 */
export function dependentsOf(graph: IrGraph, start: string): Set<string> {
  const reached = new Set<string>([start]);
  for (const node of graph.nodes) {
    if (node.inputs.some((i) => i !== '' && reached.has(i))) {
      for (const o of node.outputs) if (o && carriesSignal(graph, o)) reached.add(o);
    }
  }
  return reached;
}

function carriesSignal(graph: IrGraph, value: string): boolean {
  const dtype = graph.values.get(value)?.dtype;
  return dtype === undefined || dtype === 'float32' || dtype === 'float64';
}

/** Values that `end` depends on (including it). */
export function dependenciesOf(graph: IrGraph, end: string): Set<string> {
  const needed = new Set<string>([end]);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (node.outputs.some((o) => needed.has(o))) for (const i of node.inputs) if (i) needed.add(i);
  }
  return needed;
}

/**
 * Nodes through which a signal flows from `start` to `end`: an input depends on `start` and a
 * float output that does too feeds `end` (so Shape(x) is not on the path). Topologically ordered.
 */
export function nodesBetween(graph: IrGraph, start: string, end: string): IrNode[] {
  const from = dependentsOf(graph, start);
  const to = dependenciesOf(graph, end);
  return graph.nodes.filter((n) => n.inputs.some((i) => i !== '' && from.has(i)) && n.outputs.some((o) => from.has(o) && to.has(o)));
}

/**
 * The linear layers (Conv/ConvTranspose/Gemm/MatMul whose weight does not depend on the input)
 * between the model input and its output, counted from the input. LRP's `layerRules` and its
 * composites ("first linear layer") index into this list.
 */
export function linearLayers(graph: IrGraph): IrNode[] {
  const input = graph.inputs[0].name;
  const fromX = dependentsOf(graph, input);
  return nodesBetween(graph, input, graph.outputs[0].name).filter(
    (n) => (n.domain === '' || n.domain === 'ai.onnx') && LINEAR_OPS.has(n.opType) && n.inputs.length > 1 && !fromX.has(n.inputs[1]),
  );
}

/**
 * Drops nodes no graph output depends on, and initializers no kept node reads. Rules may emit a
 * value and later find a cheaper route to the same signal (e.g. a scatter re-emitted into another
 * layout); the abandoned nodes must not run.
 */
export function pruneUnused(graph: IrGraph): void {
  const needed = new Set<string>(graph.outputs.map((o) => o.name));
  const kept: IrNode[] = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (!node.outputs.some((o) => o && needed.has(o))) continue;
    kept.push(node);
    for (const i of node.inputs) if (i) needed.add(i);
  }
  graph.nodes = kept.reverse();
  for (const name of [...graph.initializers.keys()]) if (!needed.has(name)) graph.initializers.delete(name);
}
