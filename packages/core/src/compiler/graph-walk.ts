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

/**
 * Reorders a compiled graph so that every node the backward signal does not reach (the forward
 * pass, the baseline's, and the rules' masks, deltas and denominators, which read forward values
 * only) comes right after the last node it reads from; the nodes the signal reaches keep their
 * order. Rules emit those masks beside the backward step that uses them, far from the forward
 * value they read: onnxruntime's session set-up (its prioritised topological sort, run once per
 * graph optimiser) pays for every node in proportion to how long it waits between becoming
 * ready and its turn in file order, which made a DeepLIFT chain of 3,000 nodes take minutes to
 * open. Placed next to their producers, nothing waits and set-up is linear in the graph's size.
 * The graph stays topologically sorted.
 */
export function placeNearProducers(graph: IrGraph, signals: readonly string[]): void {
  const producer = new Map<string, number>();
  const reached = new Set(signals);
  const follows: boolean[] = [];
  const waiting: number[] = [];
  const readers: number[][] = graph.nodes.map(() => []);
  graph.nodes.forEach((node, i) => {
    const producers = new Set<number>();
    let signal = false;
    for (const input of node.inputs) {
      const p = producer.get(input);
      if (p !== undefined) producers.add(p);
      if (reached.has(input)) signal = true;
    }
    if (signal) for (const o of node.outputs) reached.add(o);
    follows.push(!signal && producers.size > 0);
    waiting.push(producers.size);
    for (const p of producers) readers[p].push(i);
    for (const o of node.outputs) if (o) producer.set(o, i);
  });
  // Emits node i, then every node that follows a producer and is now ready, depth-first; the
  // reader emitted last first, so a short side branch goes before the long forward chain.
  const order: IrNode[] = [];
  const stack: number[] = [];
  const emit = (i: number) => {
    stack.push(i);
    while (stack.length > 0) {
      const j = stack.pop()!;
      order.push(graph.nodes[j]);
      for (const r of readers[j]) if (--waiting[r] === 0 && follows[r]) stack.push(r);
    }
  };
  // A node the signal reaches is ready when its turn comes: whatever it reads has a lower index,
  // and every node that follows a producer is emitted as soon as it is ready.
  graph.nodes.forEach((_, i) => {
    if (!follows[i]) emit(i);
  });
  graph.nodes = order;
}
