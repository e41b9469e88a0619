import { float32, Rng, writeOnnx, type IrNode } from '@blameboard/core';
import { ATTR, DT, float32Bytes, type AttrSpec, type Dim, type ModelSpec, type NodeSpec, type TensorSpec } from './proto.js';

/** A base model of the ONNX family: its spec, the per-sample input shape, and its external files. */
export interface BaseModel {
  name: string;
  spec: ModelSpec;
  sample: number[];
  /** Files written beside the model (external data), by name. */
  files: Record<string, Uint8Array>;
}

const weights = (rng: Rng, n: number, scale = 0.5) => Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);

function tensor(name: string, dims: number[], values: number[]): TensorSpec {
  return { name, dims, dataType: DT.FLOAT, raw: float32Bytes(values) };
}

const ints = (name: string, value: number[]): AttrSpec => ({ name, type: ATTR.INTS, ints: value });
const int = (name: string, value: number): AttrSpec => ({ name, type: ATTR.INT, i: value });

/** x [N, 6] → Gemm → ReLU → Gemm → [N, 3] (optionally → Softmax). */
function mlp(rng: Rng, softmax: boolean): BaseModel {
  const nodes: NodeSpec[] = [
    { op: 'Gemm', name: 'fc1', inputs: ['x', 'W1', 'b1'], outputs: ['h'], attrs: [int('transB', 1)] },
    { op: 'Relu', name: 'relu', inputs: ['h'], outputs: ['r'] },
    { op: 'Gemm', name: 'fc2', inputs: ['r', 'W2', 'b2'], outputs: [softmax ? 'logits' : 'y'], attrs: [int('transB', 1)] },
  ];
  if (softmax) nodes.push({ op: 'Softmax', name: 'softmax', inputs: ['logits'], outputs: ['y'], attrs: [int('axis', 1)] });
  return {
    name: softmax ? 'mlp-softmax' : 'mlp',
    sample: [6],
    files: {},
    spec: {
      irVersion: 8,
      opsets: [['', 13]],
      graph: {
        name: 'mlp',
        nodes,
        initializers: [tensor('W1', [8, 6], weights(rng, 48)), tensor('b1', [8], weights(rng, 8, 0.1)), tensor('W2', [3, 8], weights(rng, 24)), tensor('b2', [3], weights(rng, 3, 0.1))],
        inputs: [{ name: 'x', elemType: DT.FLOAT, dims: ['batch', 6] }],
        outputs: [{ name: 'y', elemType: DT.FLOAT, dims: ['batch', 3] }],
      },
    },
  };
}

/** x [N, 1, 6, 6] → Conv 3×3 → ReLU → MaxPool 2×2 → Flatten → MatMul + Add → [N, 3]. */
function cnn(rng: Rng): BaseModel {
  return {
    name: 'cnn',
    sample: [1, 6, 6],
    files: {},
    spec: {
      irVersion: 7,
      opsets: [['', 11]],
      graph: {
        name: 'cnn',
        nodes: [
          { op: 'Conv', name: 'conv', inputs: ['x', 'K', 'kb'], outputs: ['c'], attrs: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])] },
          { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['r'] },
          { op: 'MaxPool', name: 'pool', inputs: ['r'], outputs: ['p'], attrs: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] },
          { op: 'Flatten', name: 'flatten', inputs: ['p'], outputs: ['f'], attrs: [int('axis', 1)] },
          { op: 'MatMul', name: 'dense', inputs: ['f', 'D'], outputs: ['m'] },
          { op: 'Add', name: 'bias', inputs: ['m', 'db'], outputs: ['y'] },
        ],
        initializers: [tensor('K', [2, 1, 3, 3], weights(rng, 18)), tensor('kb', [2], weights(rng, 2, 0.1)), tensor('D', [18, 3], weights(rng, 54)), tensor('db', [3], weights(rng, 3, 0.1))],
        inputs: [{ name: 'x', elemType: DT.FLOAT, dims: ['N', 1, 6, 6] }],
        outputs: [{ name: 'y', elemType: DT.FLOAT, dims: ['N', 3] }],
      },
    },
  };
}

/** The MLP with its first weight in an external file `w1.bin` (after 16 bytes of padding). */
function mlpExternal(rng: Rng): BaseModel {
  const base = mlp(rng, false);
  const w1 = base.spec.graph.initializers[0];
  const file = new Uint8Array(16 + w1.raw!.length);
  file.set(w1.raw!, 16);
  base.spec.graph.initializers[0] = { name: 'W1', dims: [8, 6], dataType: DT.FLOAT, external: [['location', 'w1.bin'], ['offset', '16'], ['length', String(w1.raw!.length)]], dataLocation: 1 };
  return { ...base, name: 'mlp-external', files: { 'w1.bin': file } };
}

/** x [N, 5] → MatMul → Sigmoid → Mul (x·σ(x)) → MatMul → [N, 2]: elementwise units, no Gemm. */
function swish(rng: Rng): BaseModel {
  return {
    name: 'swish',
    sample: [5],
    files: {},
    spec: {
      irVersion: 9,
      opsets: [['', 17]],
      graph: {
        name: 'swish',
        nodes: [
          { op: 'MatMul', name: 'in', inputs: ['x', 'A'], outputs: ['z'] },
          { op: 'Sigmoid', name: 'sig', inputs: ['z'], outputs: ['s'] },
          { op: 'Mul', name: 'gate', inputs: ['z', 's'], outputs: ['g'] },
          { op: 'MatMul', name: 'out', inputs: ['g', 'B'], outputs: ['y'] },
        ],
        initializers: [tensor('A', [5, 4], weights(rng, 20)), tensor('B', [4, 2], weights(rng, 8))],
        inputs: [{ name: 'x', elemType: DT.FLOAT, dims: [null, 5] }],
        outputs: [{ name: 'y', elemType: DT.FLOAT, dims: [null, 2] }],
      },
    },
  };
}

export function baseModels(seed: number): BaseModel[] {
  const rng = new Rng(seed);
  return [mlp(rng, false), mlp(rng, true), cnn(rng), mlpExternal(rng), swish(rng)];
}

// ---------------------------------------------------------------------------------------------
// Mutations. Each changes a deep copy of a base model and returns what it did (for the report
// of a failing case); byte mutations apply to the encoded file.

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

/** Sizes an attacker would write: zero, negative, off by one, 2³¹, 2⁴⁰, int64 extremes. */
export const HOSTILE_SIZES: readonly (number | bigint)[] = [0, -1, -7, 1, 2, 3, 1024, 1025, 2 ** 17, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 40, 2 ** 53, -(2n ** 63n), 2n ** 63n - 1n];
const ELEM_TYPES = [0, DT.UINT8, DT.INT8, DT.INT32, DT.INT64, DT.STRING, DT.BOOL, DT.FLOAT16, DT.DOUBLE, DT.UINT64, DT.COMPLEX64, DT.BFLOAT16, 17, 99, -1];
const OPS = ['FooBar', 'Loop', 'If', 'Scan', 'NonMaxSuppression', 'TopK', 'Softmax', 'Relu', 'Sin', 'Conv', 'Gemm', 'Reshape', 'Identity', 'Einsum', ''];
const DOMAINS = ['com.evil', 'ai.onnx.ml', 'com.microsoft', 'ai.onnx', '', 'ai.onnx.preview.training', '\u001b[31m'];
const LOCATIONS = ['missing.bin', '../w1.bin', '/etc/passwd', '/dev/zero', 'fifo', 'dir', 'link-out', 'loop', 'w1.bin\u0000x', '', '.', 'w1.bin/..', 'C:\\w1.bin', '%2e%2e/w1.bin'];

type Mutation = (m: BaseModel, rng: Rng) => string;

const graphOf = (m: BaseModel) => m.spec.graph;

export const STRUCTURAL: Record<string, Mutation> = {
  'initializer dtype': (m, rng) => {
    const t = pick(rng, graphOf(m).initializers);
    t.dataType = pick(rng, ELEM_TYPES);
    return `initializer ${t.name} data_type=${t.dataType}`;
  },
  'initializer dims': (m, rng) => {
    const t = pick(rng, graphOf(m).initializers);
    const what = rng.int(4);
    if (what === 0) t.dims = [...t.dims, pick(rng, HOSTILE_SIZES)];
    else if (what === 1) t.dims = t.dims.slice(1);
    else if (what === 2 && t.dims.length > 0) t.dims[rng.int(t.dims.length)] = pick(rng, HOSTILE_SIZES);
    else t.dims = [...t.dims].reverse();
    return `initializer ${t.name} dims=[${t.dims.join(',')}]`;
  },
  'initializer data': (m, rng) => {
    const t = pick(rng, graphOf(m).initializers);
    if (!t.raw) return 'no raw data';
    const what = rng.int(4);
    if (what === 0) t.raw = t.raw.slice(0, rng.int(t.raw.length));
    else if (what === 1) t.raw = new Uint8Array([...t.raw, ...t.raw]);
    else if (what === 2) {
      const v = new Float32Array(t.raw.slice().buffer);
      v[rng.int(v.length)] = pick(rng, [NaN, Infinity, -Infinity, 3e38, -0, 1e-45]);
      t.raw = new Uint8Array(v.buffer);
    } else {
      t.floatData = Array.from(new Float32Array(t.raw.slice().buffer)).slice(rng.int(2));
      t.raw = undefined;
    }
    return `initializer ${t.name} data mutated (${what})`;
  },
  'missing initializer': (m, rng) => {
    const g = graphOf(m);
    const i = rng.int(g.initializers.length);
    const [t] = g.initializers.splice(i, 1);
    return `initializer ${t.name} removed`;
  },
  'duplicate initializer': (m, rng) => {
    const g = graphOf(m);
    const t = pick(rng, g.initializers);
    g.initializers.push({ ...t, dims: [1], raw: float32Bytes([1]) });
    return `initializer ${t.name} given twice`;
  },
  'initializer as input': (m, rng) => {
    const g = graphOf(m);
    const t = pick(rng, g.initializers);
    g.inputs.push({ name: t.name, elemType: DT.FLOAT, dims: t.dims.map((d) => Number(d)) });
    return `initializer ${t.name} also declared an input`;
  },
  cycle: (m, rng) => {
    const g = graphOf(m);
    const from = rng.int(g.nodes.length);
    const to = rng.int(g.nodes.length);
    const node = g.nodes[from];
    node.inputs[0] = g.nodes[to].outputs[0];
    return `node ${node.name} reads ${g.nodes[to].outputs[0]} (a cycle when ${to} ≥ ${from})`;
  },
  'dangling input': (m, rng) => {
    const node = pick(rng, graphOf(m).nodes);
    node.inputs[rng.int(node.inputs.length)] = pick(rng, ['nowhere', '', 'x ', 'y']);
    return `node ${node.name} reads ${node.inputs.join(',')}`;
  },
  'two producers': (m, rng) => {
    const g = graphOf(m);
    const a = pick(rng, g.nodes);
    const b = pick(rng, g.nodes);
    b.outputs = [...a.outputs];
    return `nodes ${a.name} and ${b.name} both write ${a.outputs[0]}`;
  },
  'unknown op': (m, rng) => {
    const node = pick(rng, graphOf(m).nodes);
    node.op = pick(rng, OPS);
    return `node ${node.name} op=${node.op}`;
  },
  'unknown domain': (m, rng) => {
    const node = pick(rng, graphOf(m).nodes);
    node.domain = pick(rng, DOMAINS);
    if (rng.next() < 0.5) m.spec.opsets.push([node.domain, rng.int(3)]);
    return `node ${node.name} domain=${JSON.stringify(node.domain)}`;
  },
  'node removed': (m, rng) => {
    const g = graphOf(m);
    const [n] = g.nodes.splice(rng.int(g.nodes.length), 1);
    return `node ${n.name} removed`;
  },
  'nodes shuffled': (m, rng) => {
    rng.shuffle(graphOf(m).nodes);
    return 'nodes out of topological order';
  },
  attribute: (m, rng) => {
    const node = pick(rng, graphOf(m).nodes);
    const attrs = (node.attrs ??= []);
    const name = pick(rng, ['kernel_shape', 'pads', 'strides', 'dilations', 'axis', 'transB', 'transA', 'group', 'alpha', 'auto_pad', 'to', 'perm']);
    const kind = rng.int(4);
    const a: AttrSpec =
      kind === 0
        ? { name, type: ATTR.INT, i: pick(rng, HOSTILE_SIZES) }
        : kind === 1
          ? { name, type: ATTR.INTS, ints: Array.from({ length: rng.int(6) }, () => pick(rng, HOSTILE_SIZES)) }
          : kind === 2
            ? { name, type: ATTR.FLOAT, f: pick(rng, [NaN, Infinity, -1, 0, 1e30]) }
            : { name, type: ATTR.STRING, s: pick(rng, ['SAME_UPPER', 'VALID', 'NOTSET', 'bogus', '']) };
    const i = attrs.findIndex((x) => x.name === name);
    if (i >= 0) attrs[i] = a;
    else attrs.push(a);
    return `node ${node.name} attribute ${name}=${JSON.stringify(a.i ?? a.ints ?? a.f ?? a.s, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
  },
  'input dims': (m, rng) => {
    const input = graphOf(m).inputs[0];
    const dims: Dim[] = [...(input.dims ?? [])];
    const what = rng.int(5);
    if (what === 0) dims[0] = pick(rng, [...HOSTILE_SIZES, 'N', null, '']);
    else if (what === 1 && dims.length > 1) dims[1 + rng.int(dims.length - 1)] = pick(rng, [...HOSTILE_SIZES, 'W', null]);
    else if (what === 2) dims.push(pick(rng, HOSTILE_SIZES));
    else if (what === 3) dims.splice(rng.int(dims.length), 1);
    else input.dims = undefined;
    if (what !== 4) input.dims = dims;
    return `input dims=${JSON.stringify(input.dims, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
  },
  'input type': (m, rng) => {
    const input = graphOf(m).inputs[0];
    input.elemType = rng.next() < 0.1 ? undefined : pick(rng, ELEM_TYPES);
    return `input elem_type=${input.elemType}`;
  },
  'output dims': (m, rng) => {
    const out = graphOf(m).outputs[0];
    const what = rng.int(4);
    if (what === 0) out.dims = ['N', pick(rng, HOSTILE_SIZES)];
    else if (what === 1) out.dims = [];
    else if (what === 2) out.dims = undefined;
    else out.dims = [pick(rng, HOSTILE_SIZES), null];
    return `output dims=${JSON.stringify(out.dims, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
  },
  'inputs and outputs': (m, rng) => {
    const g = graphOf(m);
    const what = rng.int(5);
    if (what === 0) g.inputs.push({ name: 'x2', elemType: DT.FLOAT, dims: ['N', 6] });
    else if (what === 1) g.inputs = [];
    else if (what === 2) g.outputs = [];
    else if (what === 3) g.outputs[0].name = pick(rng, ['x', 'nowhere', g.nodes[0].outputs[0]]);
    else g.outputs.push({ name: g.nodes[0].outputs[0], elemType: DT.FLOAT });
    return `graph inputs/outputs mutated (${what})`;
  },
  opset: (m, rng) => {
    const what = rng.int(4);
    if (what === 0) m.spec.opsets = [];
    else if (what === 1) m.spec.opsets = [['', pick(rng, [0, 1, 6, 7, 21, 22, 23, 1000, -1, 2 ** 40])]];
    else if (what === 2) m.spec.opsets = [['ai.onnx', 13]];
    else m.spec.opsets.push(['', 9]);
    return `opsets=${JSON.stringify(m.spec.opsets)}`;
  },
  'ir version': (m, rng) => {
    m.spec.irVersion = pick(rng, [0, 1, 3, 4, 10, 11, 12, 99, -1, 2 ** 40]);
    return `ir_version=${m.spec.irVersion}`;
  },
  'external data': (m, rng) => {
    const g = graphOf(m);
    const t = pick(rng, g.initializers);
    const entries: [string, string][] = [];
    const what = rng.int(6);
    if (what < 3) entries.push(['location', pick(rng, LOCATIONS)]);
    if (what === 1 || what === 4) entries.push(['offset', pick(rng, ['0', '16', '-1', '999999999999', '1e3', 'x', ' 16', '18446744073709551616'])]);
    if (what === 2 || what === 5) entries.push(['length', pick(rng, ['0', '4', '192', '193', '-4', '99999999999', 'NaN'])]);
    if (what >= 3) entries.push(['location', 'w1.bin']);
    t.external = entries;
    t.dataLocation = rng.next() < 0.9 ? 1 : pick(rng, [0, 2, -1]);
    if (rng.next() < 0.7) t.raw = undefined;
    return `initializer ${t.name} external=${JSON.stringify(entries)} location=${t.dataLocation}`;
  },
  'value info': (m, rng) => {
    const g = graphOf(m);
    const node = pick(rng, g.nodes);
    (g.valueInfo ??= []).push({ name: node.outputs[0], elemType: pick(rng, ELEM_TYPES), dims: [pick(rng, HOSTILE_SIZES), pick(rng, HOSTILE_SIZES)] });
    return `value_info ${node.outputs[0]} mutated`;
  },
  'control characters': (m, rng) => {
    const node = pick(rng, graphOf(m).nodes);
    node.name = `\u001b]0;pwned\u0007\r\u202e${node.name}`;
    node.op = pick(rng, ['\u001b[2JFoo', node.op]);
    return 'control characters in node name and op';
  },
  'huge graph attribute': (m, rng) => {
    const node = pick(rng, graphOf(m).nodes);
    (node.attrs ??= []).push({ name: 'value', type: ATTR.TENSOR, t: { name: '', dims: [pick(rng, HOSTILE_SIZES), 4], dataType: DT.FLOAT, raw: float32Bytes([1, 2, 3, 4]) } });
    return `node ${node.name} tensor attribute with huge dims`;
  },
  'constant node': (m, rng) => {
    const g = graphOf(m);
    const dims = [pick(rng, HOSTILE_SIZES), 1];
    g.nodes.unshift({ op: pick(rng, ['Constant', 'ConstantOfShape']), name: 'const', inputs: rng.next() < 0.5 ? [] : ['shape'], outputs: ['k'], attrs: [{ name: 'value', type: ATTR.TENSOR, t: { name: '', dims, dataType: DT.FLOAT, raw: float32Bytes([1]) } }] });
    if (rng.next() < 0.5) g.initializers.push({ name: 'shape', dims: [2], dataType: DT.INT64, int64Data: [pick(rng, HOSTILE_SIZES), 6] });
    const node = pick(rng, g.nodes.slice(1));
    node.inputs[node.inputs.length - 1] = 'k';
    return `Constant/ConstantOfShape of dims ${dims.join(',')} read by ${node.name}`;
  },
};

export const BYTE_MUTATIONS: Record<string, (bytes: Uint8Array, rng: Rng) => [Uint8Array, string]> = {
  'bit flips': (bytes, rng) => {
    const out = bytes.slice();
    const n = 1 + rng.int(8);
    for (let k = 0; k < n; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return [out, `${n} bit flips`];
  },
  truncation: (bytes, rng) => {
    const at = rng.int(bytes.length);
    return [bytes.slice(0, at), `truncated at ${at} of ${bytes.length}`];
  },
  'byte runs': (bytes, rng) => {
    const out = bytes.slice();
    const at = rng.int(out.length);
    const value = pick(rng, [0x00, 0xff, 0x7f, 0x80]);
    out.fill(value, at, at + 1 + rng.int(16));
    return [out, `bytes from ${at} set to ${value}`];
  },
  splice: (bytes, rng) => {
    const a = rng.int(bytes.length);
    const b = rng.int(bytes.length);
    const len = rng.int(64);
    const out = new Uint8Array(bytes.length + len);
    out.set(bytes.subarray(0, a));
    out.set(bytes.subarray(b, b + len), a);
    out.set(bytes.subarray(a), a + Math.min(len, bytes.length - b));
    return [out.subarray(0, bytes.length + Math.min(len, bytes.length - b)), `${len} bytes from ${b} inserted at ${a}`];
  },
};

/**
 * The six-feature, three-class dense model the CLI-level fuzz families feed: x [N, 6] → MatMul →
 * `tail` (ReLU, a bias Add, or nothing) → y [N, 3]. Small and fixed, so a case's time goes to
 * what is mutated, not to the model.
 */
export function denseModel(tail: 'relu' | 'bias' | 'none' = 'relu'): Uint8Array {
  const W = Array.from({ length: 18 }, (_, i) => ((i * 5) % 7) / 7 - 0.4);
  const initializers = new Map([['W', float32([6, 3], W)]]);
  const nodes: IrNode[] = [{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: [tail === 'none' ? 'y' : 'h'], attributes: {} }];
  if (tail === 'relu') nodes.push({ name: 'relu', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['y'], attributes: {} });
  if (tail === 'bias') {
    initializers.set('b', float32([3], [0.1, 0, -0.1]));
    nodes.push({ name: 'add', opType: 'Add', domain: '', inputs: ['h', 'b'], outputs: ['y'], attributes: {} });
  }
  return writeOnnx({
    name: 'dense',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'blameboard-fuzz',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 6] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    initializers,
    nodes,
    values: new Map(),
  });
}
