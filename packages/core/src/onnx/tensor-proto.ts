import { ModelLoadError } from '../errors.js';
import { sizeOf, type DType, type Tensor, type TypedArray } from '../tensor.js';
import { DataType, toBigInt, toNumber, type OnnxTensorProto } from './onnx.proto.js';

const ONNX_TO_DTYPE: Record<number, DType> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.BOOL]: 'bool',
};

const DTYPE_TO_ONNX: Record<DType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  int16: DataType.INT16,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

const DATA_TYPE_NAMES = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k])) as Record<number, string>;

export function dtypeFromOnnx(code: number, what: string): DType {
  const dtype = ONNX_TO_DTYPE[code];
  if (!dtype) {
    throw new ModelLoadError(`${what} has element type ${DATA_TYPE_NAMES[code] ?? code}, which Blameboard does not support (float32, float64, int8, uint8, int16, int32, int64, bool)`);
  }
  return dtype;
}

export function dtypeToOnnx(dtype: DType): number {
  return DTYPE_TO_ONNX[dtype];
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'int16':
      return 2;
    default:
      return 1;
  }
}

export function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8':
    case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
  }
}

/** Little-endian bytes → typed array (copied, so the result is aligned and owns its memory). */
export function fromBytes(dtype: DType, bytes: Uint8Array, count: number, what: string): TypedArray {
  const need = count * bytesPerElement(dtype);
  if (bytes.length !== need) {
    throw new ModelLoadError(`${what} holds ${bytes.length} bytes but its shape and type need ${need}`);
  }
  const out = allocate(dtype, count);
  new Uint8Array(out.buffer, out.byteOffset, need).set(bytes);
  return out;
}

export function toBytes(t: Tensor): Uint8Array {
  const d = t.data;
  return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
}

/**
 * Decodes one TensorProto. `external` supplies the bytes of a tensor stored outside the file;
 * the caller owns the path checks.
 */
export function tensorFromProto(tp: OnnxTensorProto, what: string, external?: (tp: OnnxTensorProto) => Uint8Array): Tensor {
  const dtype = dtypeFromOnnx(tp.data_type, what);
  const shape = tp.dims.map((d) => toNumber(d));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new ModelLoadError(`${what} has an invalid shape [${shape.join(',')}]`);
  }
  const count = sizeOf(shape);
  if (count > 2 ** 31) throw new ModelLoadError(`${what} is too large (${count} elements)`);
  let data: TypedArray;
  if (tp.data_location === 1) {
    if (!external) throw new ModelLoadError(`${what} stores its data in an external file, but no model folder is known`);
    data = fromBytes(dtype, external(tp), count, what);
  } else if (tp.raw_data && tp.raw_data.length > 0) {
    data = fromBytes(dtype, tp.raw_data, count, what);
  } else if (count === 0) {
    data = allocate(dtype, 0);
  } else {
    data = fromTypedField(tp, dtype, count, what);
  }
  return { dtype, shape, data };
}

function fromTypedField(tp: OnnxTensorProto, dtype: DType, count: number, what: string): TypedArray {
  let source: ArrayLike<unknown>;
  switch (dtype) {
    case 'float32': source = tp.float_data; break;
    case 'float64': source = tp.double_data; break;
    case 'int64': source = tp.int64_data; break;
    default: source = tp.int32_data;
  }
  if (source.length !== count) {
    throw new ModelLoadError(`${what} has ${source.length} values but its shape needs ${count}`);
  }
  if (dtype === 'int64') return BigInt64Array.from(tp.int64_data, (v) => BigInt.asIntN(64, toBigInt(v)));
  const out = allocate(dtype, count);
  for (let i = 0; i < count; i++) (out as Float64Array)[i] = source[i] as number;
  return out;
}

/** Encodes a tensor as raw_data (little-endian), the form PyTorch and onnxruntime write. */
export function tensorToProto(name: string, t: Tensor): Partial<OnnxTensorProto> {
  return { name, dims: t.shape, data_type: dtypeToOnnx(t.dtype), raw_data: toBytes(t) };
}
