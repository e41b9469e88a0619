import type { LinearRule } from './linear-rule.js';
import { mapTensor } from './linear-layer.js';
import { divideStabilized } from './stabilize.js';

/** LRP-flat: all weights 1, bias 0, inputs 1 — each R_k spread evenly over its receptive field. */
export function flatRule(): LinearRule {
  return (layer, R, { stabilizer }) => {
    const ones = mapTensor(layer.weight, () => 1);
    const fieldSize = layer.forward(layer.inputConstant(1, 'ones'), ones, null);
    const r = divideStabilized(layer.b, R, fieldSize, stabilizer);
    return { relevance: layer.backward(r, ones) };
  };
}
