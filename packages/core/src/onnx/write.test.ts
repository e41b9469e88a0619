import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { OnnxSession } from '../runtime/session.js';
import { sizeOf, type Tensor } from '../tensor.js';
import type { IrGraph } from '../ir/types.js';
import { decodeModel, irFromModel, loadOnnxFile, prepareGraph, readOnnx } from './read.js';
import { mlpGraph, node, pytorchStyleGraph } from './test-utils/fixture-graphs.js';
import { writeOnnx } from './write.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const files = [
  ...readdirSync(path.join(fixtures, 'reference')).filter((f) => f.endsWith('.onnx')).map((f) => `reference/${f}`),
  'pytorch-style.onnx',
  'mlp.onnx',
  'mlp-softmax.onnx',
  'mlp-logsoftmax.onnx',
  'external/inside/model.onnx',
];
const sessions: OnnxSession[] = [];
afterAll(async () => Promise.all(sessions.map((s) => s.dispose())));

function randomInput(g: IrGraph, n: number, seed: number): Tensor {
  const shape = g.inputs[0].shape.map((d) => (d === 'N' ? n : (d as number)));
  return { dtype: 'float32', shape, data: new Rng(seed).fillNormal(new Float32Array(sizeOf(shape))) as Float32Array };
}

describe('writeOnnx', () => {
  for (const f of files) {
    it(`round-trips ${f}: read → write → read is deep-equal and onnxruntime agrees`, async () => {
      const file = path.join(fixtures, f);
      const first = loadOnnxFile(file);
      const bytes = writeOnnx(first);
      const second = readOnnx(bytes);
      expect(second).toEqual(first);
      expect(writeOnnx(second)).toEqual(bytes);

      // onnxruntime runs the original file (external data: from its folder) and the rewrite.
      const original = f.startsWith('external/') ? writeOnnx(first) : readFileSync(file);
      const a = await OnnxSession.create(original, { intraOpNumThreads: 1 });
      const b = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
      sessions.push(a, b);
      const x = randomInput(first, 5, 9);
      const ya = await a.run({ [first.inputs[0].name]: x });
      const yb = await b.run({ [first.inputs[0].name]: x });
      expect(Object.keys(yb)).toEqual(Object.keys(ya));
      for (const k of Object.keys(ya)) {
        expect(yb[k].shape).toEqual(ya[k].shape);
        expect(yb[k].data).toEqual(ya[k].data);
      }
    });
  }

  it('round-trips a graph built in memory (float attributes are float32 in ONNX)', () => {
    const g = prepareGraph(pytorchStyleGraph());
    const back = readOnnx(writeOnnx(g));
    for (const n of g.nodes) {
      for (const a of Object.values(n.attributes)) if (a.type === 'float') a.value = Math.fround(a.value);
    }
    expect(back).toEqual(g);
    const h = prepareGraph(mlpGraph({ tail: 'Softmax' }));
    expect(readOnnx(writeOnnx(h))).toEqual(h);
  });

  it('keeps every attribute type, tensor attributes and other domains', () => {
    const g = mlpGraph();
    g.nodes.splice(2, 0, node('Custom', 'custom', ['a'], ['unused'], {
      f: { type: 'float', value: 0.5 },
      i: { type: 'int', value: -3 },
      s: { type: 'string', value: 'héllo' },
      t: { type: 'tensor', value: { dtype: 'int32', shape: [2, 2], data: Int32Array.of(1, -2, 3, 4) } },
      fs: { type: 'floats', value: [1.5, -2.25] },
      is: { type: 'ints', value: [7, -8, 2 ** 40] },
      ss: { type: 'strings', value: ['a', ''] },
    }));
    g.nodes[2].domain = 'com.example';
    const back = irFromModel(decodeModel(writeOnnx(g)));
    expect(back.nodes[2]).toEqual(g.nodes[2]);
    expect(back.initializers).toEqual(g.initializers);
  });

  it('writes symbolic and unknown dims', () => {
    const g = mlpGraph();
    g.inputs[0].shape = ['N', 4];
    g.outputs[0].shape = ['N', '?'];
    const back = irFromModel(decodeModel(writeOnnx(g)));
    expect(back.inputs[0].shape).toEqual(['N', 4]);
    expect(back.outputs[0].shape).toEqual(['N', '?']);
  });
});
