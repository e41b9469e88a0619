import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isBlameboardError, ModelLoadError, UnsupportedOperatorError } from '../errors.js';
import { Rng } from '../rng.js';
import { OnnxSession } from '../runtime/session.js';
import { float32 } from '../tensor.js';
import { ModelProto } from './onnx.proto.js';
import { loadOnnxFile, readOnnx } from './read.js';
import { decode, externalize, mlpGraph, node, pytorchStyleGraph } from './test-utils/fixture-graphs.js';
import { encodeModel, writeOnnx } from './write.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const fixture = (rel: string) => path.join(fixtures, rel);
const sessions: OnnxSession[] = [];
afterAll(async () => Promise.all(sessions.map((s) => s.dispose())));

function expectOneLine(e: unknown, type: new (...a: never[]) => Error, pattern: RegExp) {
  expect(e).toBeInstanceOf(type);
  const msg = (e as Error).message;
  expect(msg).toMatch(pattern);
  expect(msg).not.toContain('\n');
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('readOnnx on the reference models', () => {
  const files = readdirSync(fixture('reference')).filter((f) => f.endsWith('.onnx'));
  it('finds all six', () => expect(files).toHaveLength(6));
  for (const f of files) {
    it(`reads ${f}`, () => {
      const g = loadOnnxFile(fixture(`reference/${f}`));
      // Exported at opset 13, read into the IR's forms (opset 18).
      expect(g.opsetVersion).toBe(18);
      expect(g.inputs).toHaveLength(1);
      expect(g.inputs[0].shape[0]).toBe('N');
      expect(g.outputs[0].shape).toEqual(['N', f === 'one-conv.onnx' ? 4 : 1]);
      for (const n of g.nodes) for (const o of n.outputs) expect(g.values.has(o), o).toBe(true);
      for (const n of g.nodes) expect(['Gemm', 'MatMul', 'Relu', 'Conv', 'Reshape']).toContain(n.opType);
    });
  }
});

describe('PyTorch-style export (pytorch-style.onnx)', () => {
  const g = loadOnnxFile(fixture('pytorch-style.onnx'));

  it('folds the view(N, -1) chain and the Constant nodes away', () => {
    expect(g.nodes.map((n) => n.opType)).toEqual(['Conv', 'BatchNormalization', 'Relu', 'Pad', 'AveragePool', 'Reshape', 'Gemm']);
    const reshape = g.nodes[5];
    const target = g.initializers.get(reshape.inputs[1])!;
    expect(target.dtype).toBe('int64');
    // The batch becomes 0 (copy the input's batch) and the rest stays -1: exact for any N.
    expect(Array.from(target.data as BigInt64Array, Number)).toEqual([0, -1]);
  });

  it('turns Constant nodes into initializers with their values', () => {
    const pads = g.initializers.get('/Constant_output_0')!;
    expect(Array.from(pads.data as BigInt64Array, Number)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(g.initializers.get('/Constant_1_output_0')!.shape).toEqual([]);
    expect(g.initializers.has('/Constant_2_output_0')).toBe(false); // only the folded chain used it
  });

  it('infers every shape with the batch symbolic', () => {
    const shapes = Object.fromEntries([...g.values].map(([k, v]) => [k, v.shape]));
    expect(g.inputs[0]).toEqual({ name: 'input', dtype: 'float32', shape: ['N', 3, 8, 8] });
    expect(shapes['/conv/Conv_output_0']).toEqual(['N', 4, 8, 8]);
    expect(shapes['/bn/BatchNormalization_output_0']).toEqual(['N', 4, 8, 8]);
    expect(shapes['/Pad_output_0']).toEqual(['N', 4, 10, 10]);
    expect(shapes['/pool/AveragePool_output_0']).toEqual(['N', 4, 6, 6]); // ceil_mode: floor would give 5
    expect(shapes['/Reshape_output_0']).toEqual(['N', 144]);
    expect(g.outputs).toEqual([{ name: 'output', dtype: 'float32', shape: ['N', 3] }]);
  });

  it('computes what the unfolded file computes (onnxruntime, batch 5)', async () => {
    const x = float32([5, 3, 8, 8], new Rng(5).fillNormal(new Float32Array(5 * 192)));
    const original = await OnnxSession.create(readFileSync(fixture('pytorch-style.onnx')));
    const folded = await OnnxSession.create(writeOnnx(g));
    sessions.push(original, folded);
    const a = (await original.run({ input: x })).output;
    const b = (await folded.run({ input: x })).output;
    expect(b.shape).toEqual([5, 3]);
    expect(b.data).toEqual(a.data);
  });

  it('folds a Shape chain that reads a batch-free dim to a plain constant', () => {
    const h = pytorchStyleGraph();
    // Gather index 1 (the channel count, 4) instead of the batch: the whole chain is constant.
    h.nodes.find((n) => n.name === '/Constant_2')!.attributes.value = { type: 'tensor', value: { dtype: 'int64', shape: [], data: BigInt64Array.of(1n) } };
    h.nodes.find((n) => n.name === '/Constant_4')!.attributes.value = { type: 'tensor', value: { dtype: 'int64', shape: [1], data: BigInt64Array.of(36n) } };
    h.nodes.find((n) => n.name === '/fc/Gemm')!.inputs[1] = 'fcw';
    h.initializers.set('fcw', float32([3, 36]));
    const r = readOnnx(writeOnnx(h));
    const target = r.initializers.get(r.nodes.find((n) => n.opType === 'Reshape')!.inputs[1])!;
    expect(Array.from(target.data as BigInt64Array, Number)).toEqual([4, 36]);
    expect(r.values.get('/Reshape_output_0')!.shape).toEqual([4, 36]);
  });
});

describe('initializer encodings', () => {
  it('reads float_data, double_data, int32_data and int64_data as well as raw_data', async () => {
    // y = reshape(x + cast(d) + cast(i), [0, -1]) with d, i and the shape stored in typed fields.
    const g = mlpGraph();
    g.inputs[0].shape = ['N', 2, 2];
    g.nodes = [
      node('Cast', 'cd', ['d'], ['df'], { to: { type: 'int', value: 1 } }),
      node('Cast', 'ci', ['i'], ['if'], { to: { type: 'int', value: 1 } }),
      node('Add', 'a1', ['x', 'df'], ['s1']),
      node('Add', 'a2', ['s1', 'if'], ['s2']),
      node('Mul', 'm', ['s2', 'f'], ['s3']),
      node('Reshape', 'r', ['s3', 'shape'], ['y']),
    ];
    g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 4] }];
    g.initializers = new Map([
      ['d', { dtype: 'float64', shape: [2], data: Float64Array.of(0.25, -1.5) }],
      ['i', { dtype: 'int32', shape: [2, 1], data: Int32Array.of(3, -7) }],
      ['f', float32([2], [2, 0.5])],
      ['shape', { dtype: 'int64', shape: [2], data: BigInt64Array.of(0n, -1n) }],
    ]);
    const m = decode(writeOnnx(g));
    for (const tp of m.graph!.initializer) {
      if (tp.name === 'd') tp.double_data = [0.25, -1.5];
      if (tp.name === 'i') tp.int32_data = [3, -7];
      if (tp.name === 'f') tp.float_data = [2, 0.5];
      if (tp.name === 'shape') tp.int64_data = [0, -1];
      delete (tp as { raw_data?: Uint8Array }).raw_data; // onnxruntime reads a present-but-empty raw_data as the data
    }
    const bytes = encodeModel(m);
    const r = readOnnx(bytes);
    expect(Array.from(r.initializers.get('f')!.data as Float32Array)).toEqual([2, 0.5]);
    expect(Array.from(r.initializers.get('shape')!.data as BigInt64Array)).toEqual([0n, -1n]);
    // Cast of a constant folds: d and i arrive as float32 initializers named by the Cast outputs.
    expect(Array.from(r.initializers.get('df')!.data as Float32Array)).toEqual([0.25, -1.5]);
    expect(Array.from(r.initializers.get('if')!.data as Float32Array)).toEqual([3, -7]);
    expect(r.nodes.map((n) => n.opType)).toEqual(['Add', 'Add', 'Mul', 'Reshape']);

    const x = float32([1, 2, 2], [1, 2, 3, 4]);
    const session = await OnnxSession.create(bytes);
    sessions.push(session);
    const y = (await session.run({ x })).y;
    // by hand: (x[r][c] + d[c] + i[r]) * f[c]
    expect(Array.from(y.data as Float32Array)).toEqual([(1 + 0.25 + 3) * 2, (2 - 1.5 + 3) * 0.5, (3 + 0.25 - 7) * 2, (4 - 1.5 - 7) * 0.5]);
  });

  it('refuses raw_data whose length does not fit the shape', () => {
    const m = decode(writeOnnx(mlpGraph()));
    m.graph!.initializer[0].raw_data = m.graph!.initializer[0].raw_data.slice(0, 7);
    expectOneLine(caught(() => readOnnx(encodeModel(m))), ModelLoadError, /initializer 'w1' holds 7 bytes but its shape and type need 80/);
  });
});

describe('bad files', () => {
  const good = readFileSync(fixture('pytorch-style.onnx'));

  it('truncated ONNX', () => {
    expectOneLine(caught(() => readOnnx(good.subarray(0, Math.floor(good.length / 2)))), ModelLoadError, /truncated or corrupt/);
  });

  it('random bytes', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 20; k++) {
      const bytes = Uint8Array.from({ length: 64 + rng.int(2000) }, () => rng.int(256));
      expectOneLine(caught(() => readOnnx(bytes)), ModelLoadError, /ONNX/);
    }
  });

  it('an empty file and a model without a graph', () => {
    expectOneLine(caught(() => readOnnx(new Uint8Array(0))), ModelLoadError, /empty/);
    const noGraph = ModelProto.encode({ ir_version: 7, opset_import: [{ domain: '', version: 13 }] } as never).finish();
    expectOneLine(caught(() => readOnnx(noGraph)), ModelLoadError, /no graph/);
  });

  it('opsets outside 7–21', () => {
    for (const opset of [6, 22]) {
      const g = mlpGraph();
      g.opsetVersion = opset;
      expectOneLine(caught(() => readOnnx(writeOnnx(g))), ModelLoadError, new RegExp(`opset ${opset} is not supported`));
    }
    for (const opset of [7, 11, 21]) {
      const g = mlpGraph();
      g.opsetVersion = opset;
      expect(readOnnx(writeOnnx(g)).opsetVersion).toBe(Math.max(opset, 18));
    }
  });

  it('an unsupported operator, named by op type and node', () => {
    const e = caught(() => loadOnnxFile(fixture('unsupported-op.onnx')));
    expectOneLine(e, UnsupportedOperatorError, /Sin \(node 'act'\)/);
    expect((e as UnsupportedOperatorError).ops).toEqual([{ opType: 'Sin', name: 'act' }]);
  });

  it('a node that reads a value nothing produces, or leaves out a required input', () => {
    const dangling = mlpGraph();
    dangling.initializers.delete('b1');
    expectOneLine(caught(() => readOnnx(writeOnnx(dangling))), ModelLoadError, /node '.*' \(Gemm\) reads 'b1', which no graph input, initializer or node produces/);
    const leftOut = mlpGraph({ hidden: 'Sigmoid' });
    const gemm = leftOut.nodes.find((n) => n.opType === 'Gemm')!;
    gemm.inputs[1] = '';
    expectOneLine(caught(() => readOnnx(writeOnnx(leftOut))), ModelLoadError, /\(Gemm\) leaves out its required input 2/);
    // An optional input left out (Gemm's bias) is still fine.
    const noBias = mlpGraph();
    noBias.nodes.find((n) => n.opType === 'Gemm')!.inputs[2] = '';
    expect(readOnnx(writeOnnx(noBias)).nodes.length).toBeGreaterThan(0);
  });

  it('a missing file', () => {
    expectOneLine(caught(() => loadOnnxFile(fixture('nope.onnx'))), ModelLoadError, /cannot read model .*nope\.onnx.*no such file/);
  });

  it('mutated files give a clean error or a valid graph, never a crash', () => {
    const rng = new Rng(3);
    let refused = 0;
    for (let k = 0; k < 300; k++) {
      const bytes = Uint8Array.from(good);
      for (let j = 0; j < 1 + rng.int(4); j++) bytes[rng.int(bytes.length)] = rng.int(256);
      try {
        readOnnx(bytes);
      } catch (e) {
        if (!isBlameboardError(e)) throw e;
        expect((e as Error).message).not.toContain('\n');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('external data', () => {
  it('loads a tensor stored next to the model', () => {
    const g = loadOnnxFile(fixture('external/inside/model.onnx'));
    expect(g.initializers.get('w1')).toEqual(mlpGraph().initializers.get('w1'));
  });

  it('refuses a location that leaves the folder through ..', () => {
    expectOneLine(caught(() => loadOnnxFile(fixture('external/escape-parent/model.onnx'))), ModelLoadError, /'\.\.\/inside\/weights\.bin' leaves the model's folder; refused/);
  });

  it('refuses an absolute location', () => {
    expectOneLine(caught(() => loadOnnxFile(fixture('external/escape-absolute/model.onnx'))), ModelLoadError, /'\/etc\/passwd' leaves the model's folder/);
  });

  it('refuses a symlink that points out of the folder, follows one that stays inside', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-ext-'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'bb-outside-'));
    const { model, data } = externalize(mlpGraph(), 'w1', 'link.bin');
    writeFileSync(path.join(outside, 'weights.bin'), data);
    symlinkSync(path.join(outside, 'weights.bin'), path.join(dir, 'link.bin'));
    writeFileSync(path.join(dir, 'model.onnx'), model);
    expectOneLine(caught(() => loadOnnxFile(path.join(dir, 'model.onnx'))), ModelLoadError, /'link\.bin' leaves the model's folder/);

    const inside = mkdtempSync(path.join(os.tmpdir(), 'bb-in-'));
    writeFileSync(path.join(inside, 'real.bin'), data);
    symlinkSync(path.join(inside, 'real.bin'), path.join(inside, 'link.bin'));
    writeFileSync(path.join(inside, 'model.onnx'), model);
    expect(loadOnnxFile(path.join(inside, 'model.onnx')).initializers.get('w1')).toEqual(mlpGraph().initializers.get('w1'));
  });

  it('refuses a FIFO as external data without blocking on it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-fifo-'));
    const { model } = externalize(mlpGraph(), 'w1', 'weights.bin');
    execFileSync('mkfifo', [path.join(dir, 'weights.bin')]);
    writeFileSync(path.join(dir, 'model.onnx'), model);
    expectOneLine(caught(() => loadOnnxFile(path.join(dir, 'model.onnx'))), ModelLoadError, /external data 'weights\.bin': it is a FIFO, not a regular file/);
  });

  it('reads only the tensor\u2019s bytes of a huge external file, and refuses a length that disagrees with the shape', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-huge-'));
    const { model, data } = externalize(mlpGraph(), 'w1', 'weights.bin');
    writeFileSync(path.join(dir, 'weights.bin'), data);
    // 4 GiB, sparse: reading it whole would take 4 GiB of memory (and fail past Node's buffer limit).
    truncateSync(path.join(dir, 'weights.bin'), 2 ** 32);
    const m = decode(model);
    const tp = m.graph!.initializer.find((t) => t.name === 'w1')!;
    tp.external_data = tp.external_data.filter((e) => e.key !== 'length');
    writeFileSync(path.join(dir, 'model.onnx'), encodeModel(m));
    expect(loadOnnxFile(path.join(dir, 'model.onnx')).initializers.get('w1')).toEqual(mlpGraph().initializers.get('w1'));
    tp.external_data.push({ key: 'length', value: String(2 ** 31) });
    writeFileSync(path.join(dir, 'model.onnx'), encodeModel(m));
    expectOneLine(caught(() => loadOnnxFile(path.join(dir, 'model.onnx'))), ModelLoadError, /'length' is 2147483648 bytes, but the tensor's shape and type need \d+/);
  });

  it('refuses a device or a FIFO given as the model, before reading it', () => {
    expectOneLine(caught(() => loadOnnxFile('/dev/zero')), ModelLoadError, /cannot read model '\/dev\/zero': it is not a regular file/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-fifo-'));
    execFileSync('mkfifo', [path.join(dir, 'model.onnx')]);
    expectOneLine(caught(() => loadOnnxFile(path.join(dir, 'model.onnx'))), ModelLoadError, /it is a FIFO/);
  });

  it('refuses external data without a model folder, and ranges past the end of the file', () => {
    const bytes = readFileSync(fixture('external/inside/model.onnx'));
    expectOneLine(caught(() => readOnnx(bytes)), ModelLoadError, /external file, but no model folder is known/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-short-'));
    const { model, data } = externalize(mlpGraph(), 'w1', 'weights.bin');
    writeFileSync(path.join(dir, 'weights.bin'), data.subarray(0, data.length - 4));
    writeFileSync(path.join(dir, 'model.onnx'), model);
    expectOneLine(caught(() => loadOnnxFile(path.join(dir, 'model.onnx'))), ModelLoadError, /reaches past its end/);
  });
});

describe('node order', () => {
  const chain = (order: number[]) => {
    const nodes = [
      { name: 'a', opType: 'Relu', domain: '', inputs: ['x'], outputs: ['h'], attributes: {} },
      { name: 'b', opType: 'Sigmoid', domain: '', inputs: ['h'], outputs: ['s'], attributes: {} },
      { name: 'c', opType: 'Mul', domain: '', inputs: ['h', 's'], outputs: ['y'], attributes: {} },
    ];
    return writeOnnx({
      name: 'g',
      irVersion: 8,
      opsetVersion: 13,
      producerName: 't',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 4] }],
      initializers: new Map(),
      nodes: order.map((i) => nodes[i]),
      values: new Map(),
    });
  };

  it('sorts nodes written out of topological order (onnxruntime runs such files), and refuses a cycle', () => {
    for (const order of [[2, 1, 0], [1, 2, 0], [0, 2, 1]]) {
      const g = readOnnx(chain(order));
      expect(g.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
      expect(g.values.get('y')?.shape).toEqual(['N', 4]);
    }
    const cyclic = readOnnx(chain([0, 1, 2]));
    expect(cyclic.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    const bytes = writeOnnx({ ...readOnnx(chain([0, 1, 2])), nodes: [{ name: 'loop', opType: 'Relu', domain: '', inputs: ['y'], outputs: ['y'], attributes: {} }] });
    expectOneLine(caught(() => readOnnx(bytes)), ModelLoadError, /the graph has a cycle through node 'loop'/);
  });
});
