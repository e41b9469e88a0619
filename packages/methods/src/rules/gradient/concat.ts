import type { BackwardRule } from '@blameboard/core';
import { intAttr, unsupported } from '../attributes.js';

/** Each input gets back its own slab of the signal along the concatenation axis. */
export const concatGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.outputs[0]).length;
  const raw = intAttr(node, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  let offset = 0;
  return node.inputs.map((input) => {
    const size = b.shapeOf(input)[axis];
    if (typeof size !== 'number') throw unsupported(node, `concatenation along a dynamic axis`);
    const slab = b.op('Slice', [upstream[0], b.int64s([offset]), b.int64s([offset + size]), b.int64s([axis])])[0];
    offset += size;
    return slab;
  });
};
