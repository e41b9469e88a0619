import type { UnsupportedOp } from '../errors.js';
import type { IrGraph } from './types.js';

/**
 * Operators the layer-graph IR models (SPEC §2.1), in the forms of the IR's opset (older forms
 * are rewritten when read). Every one has a backward rule for the gradient, DeepLIFT and LRP
 * (LRP refuses a Softmax inside the network); packages/methods tests its rule tables against this list. PyTorch's Shape/Gather/… chains
 * are not listed: constant folding removes them, and one that survives folding is unsupported.
 */
export const SUPPORTED_OPS: readonly string[] = [
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Sum', 'Neg',
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Elu', 'Clip', 'HardSigmoid', 'HardSwish', 'Erf', 'Gelu',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization',
  'Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Concat', 'Pad', 'Slice', 'Split',
  'ReduceMean', 'Resize', 'Cast', 'Identity', 'Dropout', 'Constant', 'Softmax', 'LogSoftmax',
];

const SUPPORTED = new Set(SUPPORTED_OPS);

/** Nodes whose operator the IR cannot model, by op type and node name, in graph order. */
export function unsupportedOps(graph: IrGraph): UnsupportedOp[] {
  return graph.nodes
    .filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !SUPPORTED.has(n.opType))
    .map((n) => ({ opType: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType, name: n.name }));
}
