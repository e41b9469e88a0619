import type { IrGraph, IrNode, Tensor } from '@blameboard/core';
import { Rng } from '@blameboard/core';

/** Population standard deviation of a tensor's values. */
export function stdOf(t: Tensor): number {
  const v = t.data as Float32Array;
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i];
  mean /= v.length || 1;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i] - mean) ** 2;
  return Math.sqrt(ss / (v.length || 1));
}

/**
 * A copy of `graph` in which every initializer input of `layer` (weight, and bias where the layer
 * holds it) is redrawn from N(0, σ²), σ the std of the values it replaces — Adebayo et al.'s
 * re-initialisation at the layer's own scale. Draws come from `rng` in input order, element order.
 * Nodes and other weights are shared with the source graph (they are not modified).
 */
export function reinitializeLayer(graph: IrGraph, layer: IrNode, rng: Rng): IrGraph {
  const initializers = new Map(graph.initializers);
  for (const name of layer.inputs) {
    const old = graph.initializers.get(name);
    if (!old) continue;
    const std = stdOf(old);
    const data = new Float32Array(old.data.length);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, std);
    initializers.set(name, { dtype: 'float32', shape: [...old.shape], data });
  }
  return { ...graph, initializers };
}
