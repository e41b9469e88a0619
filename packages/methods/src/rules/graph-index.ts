import type { IrGraph, IrNode } from '@blameboard/core';

/**
 * Who produces and who reads each value of a forward graph, indexed at the first lookup per graph
 * (a scan of the node list per lookup makes compiling quadratic in depth). The compiler appends
 * backward nodes to the same graph while rules run; they output only fresh names, and the walk
 * from the output back reaches a node's rule before any backward node reads that node's values,
 * so the index is the forward graph's, as the per-rule caches it replaces were.
 */
const producers = new WeakMap<IrGraph, Map<string, IrNode>>();
const consumers = new WeakMap<IrGraph, Map<string, IrNode[]>>();

/** The node that outputs `value`, if any. */
export function producerOf(graph: IrGraph, value: string): IrNode | undefined {
  let map = producers.get(graph);
  if (!map) {
    map = new Map();
    for (const n of graph.nodes) for (const o of n.outputs) if (o) map.set(o, n);
    producers.set(graph, map);
  }
  return map.get(value);
}

/** The nodes that read `value` (graph outputs are not nodes: check them apart). */
export function consumersOf(graph: IrGraph, value: string): IrNode[] {
  let map = consumers.get(graph);
  if (!map) {
    map = new Map();
    for (const n of graph.nodes) {
      for (const i of n.inputs) {
        if (!i) continue;
        const readers = map.get(i);
        if (readers) readers.push(n);
        else map.set(i, [n]);
      }
    }
    consumers.set(graph, map);
  }
  return map.get(value) ?? [];
}
