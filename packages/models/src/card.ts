import { createHash } from 'node:crypto';
import type { IrGraph, IrNode } from '@blameboard/core';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Weights and biases (float initializers), the number people compare model sizes by. */
export function parameterCount(graph: IrGraph): number {
  let n = 0;
  for (const t of graph.initializers.values()) if (t.dtype === 'float32' || t.dtype === 'float64') n += t.data.length;
  return n;
}

function ints(node: IrNode, name: string): number[] | undefined {
  const a = node.attributes[name];
  return a && a.type === 'ints' ? a.value : undefined;
}

/** One readable line per node: "conv1: Conv 1→8 5×5 stride 1 pads 0,0,0,0". */
export function describeGraph(graph: IrGraph): string[] {
  const shape = (name: string | undefined) => (name ? graph.initializers.get(name)?.shape : undefined);
  return graph.nodes.map((node) => {
    let detail = '';
    const w = shape(node.inputs[1]);
    switch (node.opType) {
      case 'Conv':
        if (w) detail = `${w[1]}→${w[0]} ${w.slice(2).join('×')} stride ${(ints(node, 'strides') ?? [1]).join(',')} pads ${(ints(node, 'pads') ?? [0, 0, 0, 0]).join(',')}`;
        break;
      case 'Gemm':
        if (w) detail = node.attributes.transB?.value === 1 ? `${w[1]}→${w[0]}` : `${w[0]}→${w[1]}`;
        break;
      case 'MaxPool':
      case 'AveragePool':
        detail = `${(ints(node, 'kernel_shape') ?? []).join('×')} stride ${(ints(node, 'strides') ?? [1]).join(',')}`;
        break;
      case 'BatchNormalization': {
        const eps = node.attributes.epsilon;
        detail = `${shape(node.inputs[1])?.[0] ?? '?'} channels eps ${eps && eps.type === 'float' ? eps.value : 1e-5}`;
        break;
      }
      default:
        break;
    }
    return `${node.name || node.outputs[0]}: ${node.opType}${detail ? ' ' + detail : ''}`;
  });
}
