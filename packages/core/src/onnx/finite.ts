import { ModelLoadError } from '../errors.js';
import { DataType, type OnnxModelProto, type OnnxTensorProto } from './onnx.proto.js';

/**
 * Refuses a model whose weights hold NaN, or ±Infinity in a tensor of more than one value, naming
 * the tensor: such a model computes NaN for every input it is explained on. A single ±Infinity
 * is kept: it is a bound (Clip's max, a Pad or ConstantOfShape value), not a weight.
 */
export function refuseNonFiniteWeights(model: OnnxModelProto): void {
  const graph = model.graph!;
  for (const tp of graph.initializer) check(tp, `initializer '${tp.name}'`);
  for (const node of graph.node) {
    for (const a of node.attribute) {
      const what = `the constant '${a.name}' of node '${node.name || node.op_type}'`;
      if (a.t) check(a.t, what);
      for (const t of a.tensors ?? []) check(t, what);
    }
  }
}

function check(tp: OnnxTensorProto, what: string): void {
  const values = floatValues(tp);
  if (!values) return;
  let nan = 0;
  let inf = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v === 0) continue;
    if (Number.isNaN(v)) nan++;
    else inf++;
    if (first < 0) first = i;
  }
  if (nan === 0 && (inf === 0 || values.length === 1)) return;
  const kinds = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
  throw new ModelLoadError(`${what} holds ${kinds} of its ${values.length} values (first at flat index ${first}); a model's weights must be finite`);
}

/** The tensor's floating-point values, decoded just for the scan (undefined for other types). */
function floatValues(tp: OnnxTensorProto): ArrayLike<number> | undefined {
  const raw = tp.raw_data && tp.raw_data.length > 0 ? tp.raw_data : undefined;
  switch (tp.data_type) {
    case DataType.FLOAT:
      return raw ? view(raw, Float32Array) : tp.float_data;
    case DataType.DOUBLE:
      return raw ? view(raw, Float64Array) : tp.double_data;
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      // Only whether a value is finite matters here: an all-ones exponent means NaN or ±Infinity.
      const halves = raw ? view(raw, Uint16Array) : Uint16Array.from(tp.int32_data);
      const exponent = tp.data_type === DataType.FLOAT16 ? 0x7c00 : 0x7f80;
      const mantissa = tp.data_type === DataType.FLOAT16 ? 0x03ff : 0x007f;
      return Array.from(halves, (h) => ((h & exponent) !== exponent ? 0 : h & mantissa ? NaN : Infinity));
    }
    default:
      return undefined;
  }
}

/** `bytes` read as little-endian elements: a view when aligned, else a copy (trailing bytes ignored; the decoder checks lengths). */
function view<T extends Float32Array | Float64Array | Uint16Array>(bytes: Uint8Array, Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  const n = Math.floor(bytes.length / Ctor.BYTES_PER_ELEMENT);
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, n);
  // A copy, not bytes.slice(): on a Node Buffer (what protobufjs decodes into) slice is a view.
  const copy = new Uint8Array(n * Ctor.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(0, copy.length));
  return new Ctor(copy.buffer, 0, n);
}
