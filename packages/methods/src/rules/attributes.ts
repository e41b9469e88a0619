import { UnsupportedOperatorError, type Dim, type IrNode } from '@blameboard/core';

/** Typed reads of ONNX attributes with the defaults the ONNX operator specs give. */
export function intAttr(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a && a.type === 'int' ? a.value : fallback;
}

export function floatAttr(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (a && a.type === 'float') return a.value;
  if (a && a.type === 'int') return a.value;
  return fallback;
}

export function intsAttr(node: IrNode, name: string, fallback: number[]): number[] {
  const a = node.attributes[name];
  return a && a.type === 'ints' ? [...a.value] : fallback;
}

export function stringAttr(node: IrNode, name: string, fallback: string): string {
  const a = node.attributes[name];
  return a && a.type === 'string' ? a.value : fallback;
}

/** The op a rule cannot handle in this configuration, as a one-line typed error. */
export function unsupported(node: IrNode, why: string): UnsupportedOperatorError {
  return new UnsupportedOperatorError([{ opType: node.opType, name: node.name }], `no backward rule (${why}) for`);
}

/** Static dimensions a rule needs (spatial sizes, channel counts); 'N'-like symbols are refused. */
export function staticDims(node: IrNode, shape: Dim[], what: string): number[] {
  return shape.map((d) => {
    if (typeof d !== 'number') throw unsupported(node, `${what} has a dynamic dimension '${d}'`);
    return d;
  });
}
