/**
 * A minimal protobuf writer for ONNX models, so the fuzz suite can write what no well-behaved
 * writer would: negative or huge dims, unknown element types, external-data entries, broken
 * references. Field numbers are onnx.proto's.
 */

type Field = [number, number | bigint | string | Uint8Array | { fixed32: number } | { double: number }];

const utf8 = new TextEncoder();

function varint(v: number | bigint): number[] {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n !== 0n) byte |= 0x80;
    out.push(byte);
  } while (n !== 0n);
  return out;
}

/** Encodes fields in order: numbers and bigints as varints, strings and bytes length-delimited. */
export function message(fields: Field[]): Uint8Array {
  const bytes: Uint8Array[] = [];
  let length = 0;
  const push = (chunk: Uint8Array | number[]) => {
    const b = chunk instanceof Uint8Array ? chunk : Uint8Array.from(chunk);
    bytes.push(b);
    length += b.length;
  };
  for (const [num, value] of fields) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      push(varint((num << 3) | 0));
      push(varint(value));
    } else if (typeof value === 'string' || value instanceof Uint8Array) {
      const body = typeof value === 'string' ? utf8.encode(value) : value;
      push(varint((num << 3) | 2));
      push(varint(body.length));
      push(body);
    } else if ('fixed32' in value) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, value.fixed32, true);
      push(varint((num << 3) | 5));
      push(b);
    } else {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, value.double, true);
      push(varint((num << 3) | 1));
      push(b);
    }
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** ONNX TensorProto.DataType codes used here. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT64: 13, COMPLEX64: 14, BFLOAT16: 16 } as const;

export interface TensorSpec {
  name: string;
  dims: (number | bigint)[];
  dataType: number;
  /** Little-endian bytes (raw_data). */
  raw?: Uint8Array;
  floatData?: number[];
  int64Data?: (number | bigint)[];
  external?: [string, string][];
  dataLocation?: number;
}

export type Dim = number | bigint | string | null;

export interface ValueSpec {
  name: string;
  /** Element type; undefined writes no type at all. */
  elemType?: number;
  /** Dimensions (a string is a dim_param, null an unknown dim); undefined writes no shape. */
  dims?: Dim[];
}

export interface AttrSpec {
  name: string;
  type: number;
  f?: number;
  i?: number | bigint;
  s?: string;
  t?: TensorSpec;
  floats?: number[];
  ints?: (number | bigint)[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: AttrSpec[];
}

export interface ModelSpec {
  irVersion: number | bigint;
  opsets: [string, number | bigint][];
  graph: {
    name: string;
    nodes: NodeSpec[];
    initializers: TensorSpec[];
    inputs: ValueSpec[];
    outputs: ValueSpec[];
    valueInfo?: ValueSpec[];
  };
}

export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export function tensorBytes(t: TensorSpec): Uint8Array {
  const f: Field[] = t.dims.map((d) => [1, d] as Field);
  f.push([2, t.dataType]);
  if (t.floatData) {
    const b = new Uint8Array(t.floatData.length * 4);
    const v = new DataView(b.buffer);
    t.floatData.forEach((x, i) => v.setFloat32(i * 4, x, true));
    f.push([4, b]);
  }
  if (t.int64Data) f.push([7, Uint8Array.from(t.int64Data.flatMap((x) => varint(x)))]);
  f.push([8, t.name]);
  if (t.raw) f.push([9, t.raw]);
  for (const [k, v] of t.external ?? []) f.push([13, message([[1, k], [2, v]])]);
  if (t.dataLocation !== undefined) f.push([14, t.dataLocation]);
  return message(f);
}

function valueBytes(v: ValueSpec): Uint8Array {
  const f: Field[] = [[1, v.name]];
  if (v.elemType !== undefined) {
    const tensor: Field[] = [[1, v.elemType]];
    if (v.dims) {
      const dims = v.dims.map((d): Field => [1, message(d === null ? [] : typeof d === 'string' ? [[2, d]] : [[1, d]])]);
      tensor.push([2, message(dims)]);
    }
    f.push([2, message([[1, message(tensor)]])]);
  }
  return message(f);
}

function attrBytes(a: AttrSpec): Uint8Array {
  const f: Field[] = [[1, a.name], [20, a.type]];
  if (a.f !== undefined) f.push([2, { fixed32: a.f }]);
  if (a.i !== undefined) f.push([3, a.i]);
  if (a.s !== undefined) f.push([4, a.s]);
  if (a.t) f.push([5, tensorBytes(a.t)]);
  for (const x of a.floats ?? []) f.push([7, { fixed32: x }]);
  for (const x of a.ints ?? []) f.push([8, x]);
  return message(f);
}

function nodeBytes(n: NodeSpec): Uint8Array {
  const f: Field[] = [];
  for (const i of n.inputs) f.push([1, i]);
  for (const o of n.outputs) f.push([2, o]);
  if (n.name !== undefined) f.push([3, n.name]);
  f.push([4, n.op]);
  for (const a of n.attrs ?? []) f.push([5, attrBytes(a)]);
  if (n.domain !== undefined) f.push([7, n.domain]);
  return message(f);
}

export function modelBytes(m: ModelSpec): Uint8Array {
  const g = m.graph;
  const graph: Field[] = [];
  for (const n of g.nodes) graph.push([1, nodeBytes(n)]);
  graph.push([2, g.name]);
  for (const t of g.initializers) graph.push([5, tensorBytes(t)]);
  for (const v of g.inputs) graph.push([11, valueBytes(v)]);
  for (const v of g.outputs) graph.push([12, valueBytes(v)]);
  for (const v of g.valueInfo ?? []) graph.push([13, valueBytes(v)]);
  const f: Field[] = [[1, m.irVersion], [2, 'blameboard-fuzz']];
  f.push([7, message(graph)]);
  for (const [domain, version] of m.opsets) f.push([8, message([[1, domain], [2, version]])]);
  return message(f);
}

export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
