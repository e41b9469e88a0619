import ort from 'onnxruntime-node';
import type { DType, Tensor, TypedArray } from '../tensor.js';

const FROM_ORT: Partial<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
};

/** core Tensor → ort.Tensor, sharing memory (int64 stays a BigInt64Array, bool a Uint8Array). */
export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data as never, t.shape);
}

/** ort.Tensor → core Tensor. */
export function fromOrt(t: ort.Tensor): Tensor {
  const dtype = FROM_ORT[t.type];
  if (!dtype) throw new Error(`onnxruntime returned a ${t.type} tensor, which Blameboard does not handle`);
  return { dtype, shape: t.dims.map(Number), data: t.data as TypedArray };
}
