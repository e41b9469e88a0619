import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OnnxSession, readOnnx, writeOnnx } from '@blameboard/core';
import { tfForward } from '@blameboard/tfjs';
import { loadDataset } from '@blameboard/datasets';
import { getZooEntry, zooIds } from './zoo.js';

/**
 * The engine on every shipped zoo model (issue "Foundation"): the IR writer round-trips the file
 * exactly, and the tfjs executor — the tests' autodiff reference — computes what onnxruntime does.
 */
describe.each(zooIds)('engine on %s', (id) => {
  const entry = getZooEntry(id);
  const bytes = readFileSync(entry.file);

  it('write → read gives the same IR, and the rewritten file the same outputs', async () => {
    const ir = readOnnx(bytes);
    const rewritten = writeOnnx(ir);
    expect(readOnnx(rewritten)).toEqual(ir);
    const data = await loadDataset(entry.dataset, { split: 'test', count: 8, seed: 5, layout: entry.layout });
    const a = await OnnxSession.create(bytes);
    const b = await OnnxSession.create(rewritten);
    const ya = (await a.run({ [a.inputNames[0]]: data.inputs }))[a.outputNames[0]];
    const yb = (await b.run({ [b.inputNames[0]]: data.inputs }))[b.outputNames[0]];
    expect(Array.from(yb.data as Float32Array)).toEqual(Array.from(ya.data as Float32Array));
    await a.dispose();
    await b.dispose();
  });

  it('the tfjs executor equals onnxruntime within 1e-5', async () => {
    const ir = readOnnx(bytes);
    const data = await loadDataset(entry.dataset, { split: 'test', count: 8, seed: 6, layout: entry.layout });
    const session = await OnnxSession.create(bytes);
    const expected = (await session.run({ [session.inputNames[0]]: data.inputs }))[session.outputNames[0]].data as Float32Array;
    await session.dispose();
    const got = (await tfForward(ir, data.inputs)).data as Float32Array;
    expect(got.length).toBe(expected.length);
    expected.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-5));
  });
});
