import type { IrGraph } from '@blameboard/core';

/** Ops whose output is ≥ 0 whatever their input. */
const NON_NEGATIVE = new Set(['Relu', 'Sigmoid', 'Softplus', 'Abs', 'Exp', 'HardSigmoid', 'Softmax']);
/** Ops that only select, average or move elements of their first input (or of all, for Concat). */
const SIGN_PRESERVING = new Set([
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'Reshape', 'Identity', 'Dropout',
  'Squeeze', 'Unsqueeze', 'Transpose',
]);

/**
 * True when `value` is ≥ 0 by construction (a ReLU's output, possibly pooled or reshaped). The
 * sign-splitting rules (γ, αβ) then need no x⁻ passes: exact, and half the work. The model input
 * counts as ≥ 0 when the caller checked the inputs being explained (`inputNonNegative`).
 */
export function isNonNegative(graph: IrGraph, value: string, inputNonNegative = false, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === graph.inputs[0]?.name) return inputNonNegative;
  const producer = graph.nodes.find((n) => n.outputs.includes(value));
  if (!producer || (producer.domain !== '' && producer.domain !== 'ai.onnx')) return false;
  if (NON_NEGATIVE.has(producer.opType)) return producer.outputs[0] === value;
  if (producer.opType === 'Clip') {
    // ReLU6 and other clips with a constant lower bound ≥ 0.
    const lo = producer.inputs[1] ? graph.initializers.get(producer.inputs[1]) : undefined;
    return lo !== undefined && Number(lo.data[0]) >= 0;
  }
  if (SIGN_PRESERVING.has(producer.opType)) return producer.outputs[0] === value && isNonNegative(graph, producer.inputs[0], inputNonNegative, depth + 1);
  if (producer.opType === 'Concat') return producer.inputs.every((i) => isNonNegative(graph, i, inputNonNegative, depth + 1));
  return false;
}
