import type { BackwardRule, IrNode } from '@blameboard/core';
import { stringAttr, unsupported } from '../attributes.js';

export function checkPad(node: IrNode): void {
  const mode = stringAttr(node, 'mode', 'constant');
  if (mode !== 'constant') throw unsupported(node, `${mode}-mode padding`);
}

const INT64_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Constant padding adds elements that do not depend on x: the signal is cropped back to the
 * input's window. Negative pads (crops) are undone by zero-padding the signal first.
 */
export const padGradient: BackwardRule = ({ node, b, upstream }) => {
  const [x, padsName, , axesName] = node.inputs;
  const rank = b.shapeOf(x).length;
  const padsT = padsName ? b.initializer(padsName) : undefined;
  if (padsName && !padsT) throw unsupported(node, 'pads computed at run time');
  const pads = padsT ? Array.from(padsT.data as BigInt64Array, Number) : [];
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (axesName) {
    const axesT = b.initializer(axesName);
    if (!axesT) throw unsupported(node, 'axes computed at run time');
    axes = Array.from(axesT.data as BigInt64Array, Number).map((a) => (a < 0 ? a + rank : a));
  }
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    begin[a] = pads[i] ?? 0;
    end[a] = pads[axes.length + i] ?? 0;
  });
  let g = upstream[0];
  if (begin.some((p) => p < 0) || end.some((p) => p < 0)) {
    const regrow = [...begin.map((p) => Math.max(-p, 0)), ...end.map((p) => Math.max(-p, 0))];
    g = b.op('Pad', [g, b.int64s(regrow)])[0];
  }
  const sliceAxes = Array.from({ length: rank }, (_, i) => i).filter((i) => begin[i] > 0 || end[i] > 0);
  if (sliceAxes.length > 0) {
    const starts = sliceAxes.map((i) => Math.max(begin[i], 0));
    const ends = sliceAxes.map((i) => (end[i] > 0 ? -end[i] : INT64_MAX));
    g = b.op('Slice', [g, b.int64s(starts), b.int64s(ends), b.int64s(sliceAxes)])[0];
  }
  return node.inputs.map((_, i) => (i === 0 ? g : null));
};
