/** Element types Blameboard moves between .npy files, ONNX initializers and onnxruntime. */
export type DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | BigInt64Array;

/** A dense, C-ordered tensor. int64 data is a BigInt64Array (as onnxruntime and .npy want it). */
export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(dtype: DType, shape: number[], data: TypedArray): Tensor {
  if (data.length !== sizeOf(shape)) {
    throw new Error(`tensor data has ${data.length} elements but shape [${shape.join(',')}] needs ${sizeOf(shape)}`);
  }
  return { dtype, shape: [...shape], data };
}

export function float32(shape: number[], data?: ArrayLike<number>): Tensor {
  const arr = data ? Float32Array.from(data) : new Float32Array(sizeOf(shape));
  return tensor('float32', shape, arr);
}

/** Rows [start, end) along the first axis, sharing no memory with the source. */
export function sliceBatch(t: Tensor, start: number, end: number): Tensor {
  const row = sizeOf(t.shape.slice(1));
  const data = t.data.slice(start * row, end * row) as TypedArray;
  return { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data };
}

/** Concatenates tensors of equal dtype along the first axis. */
export function concatBatch(parts: Tensor[]): Tensor {
  if (parts.length === 0) throw new Error('concatBatch needs at least one tensor');
  const first = parts[0];
  const rows = parts.reduce((n, p) => n + p.shape[0], 0);
  const shape = [rows, ...first.shape.slice(1)];
  const Ctor = first.data.constructor as new (n: number) => TypedArray;
  const out = new Ctor(sizeOf(shape));
  let offset = 0;
  for (const p of parts) {
    (out as any).set(p.data, offset);
    offset += p.data.length;
  }
  return { dtype: first.dtype, shape, data: out };
}
