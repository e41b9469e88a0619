import { describe, expect, it } from 'vitest';
import type { OnnxSession, Tensor } from '@blameboard/core';
import { runChunks, streamRows } from './row-stream.js';

/** A stand-in session that doubles its input and records how many rows each run got. */
function fakeSession(runs: number[]): OnnxSession {
  return {
    inputNames: ['x'],
    outputNames: ['y'],
    run: async (feeds: Record<string, Tensor>) => {
      runs.push(feeds.x.shape[0]);
      return { y: { ...feeds.x, data: Float32Array.from(feeds.x.data as Float32Array, (v) => 2 * v) } };
    },
  } as unknown as OnnxSession;
}

describe('streamRows', () => {
  it('never runs more than batchSize rows, whatever the total', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await streamRows({
      session: fakeSession(runs),
      inputs: [{ name: 'x', shape: [3] }],
      rows: 10,
      batchSize: 4,
      fill: (row, [x]) => x.fill(row),
      consume: (row, out) => seen.push(row, ...out.y),
    });
    expect(runs).toEqual([4, 4, 2]);
    expect(seen.slice(0, 8)).toEqual([0, 0, 0, 0, 1, 2, 2, 2]);
    expect(seen.length).toBe(40);
  });

  it('pads to a model’s fixed batch and drops the padding', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await streamRows({
      session: fakeSession(runs),
      fixedBatch: 2,
      inputs: [{ name: 'x', shape: [1] }],
      rows: 5,
      batchSize: 3,
      fill: (row, [x]) => x.fill(row + 1),
      consume: (_row, out) => seen.push(out.y[0]),
    });
    expect(runs).toEqual([2, 2, 2]);
    expect(seen).toEqual([2, 4, 6, 8, 10]);
  });
});

describe('runChunks', () => {
  const x: Tensor = { dtype: 'float32', shape: [5, 2], data: Float32Array.from({ length: 10 }, (_, i) => i) };

  it('runs a batch that fits as the caller’s tensor, uncopied', async () => {
    let fed: Tensor | undefined;
    const session = { run: async (feeds: Record<string, Tensor>) => ((fed = feeds.x), { y: feeds.x }) } as unknown as OnnxSession;
    await runChunks({ session, feeds: { x }, rows: 5, batchSize: 8, consume: () => undefined });
    expect(fed).toBe(x);
  });

  it('splits into chunks of at most batchSize rows, each seeing its own rows', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await runChunks({
      session: fakeSession(runs),
      feeds: { x },
      rows: 5,
      batchSize: 2,
      consume: (start, count, out) => {
        expect(out.y.shape).toEqual([count, 2]);
        seen.push(start, ...(out.y.data as Float32Array));
      },
    });
    expect(runs).toEqual([2, 2, 1]);
    expect(seen).toEqual([0, 0, 2, 4, 6, 2, 8, 10, 12, 14, 4, 16, 18]);
  });

  it('pads to a model’s fixed batch and drops the padding', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await runChunks({ session: fakeSession(runs), fixedBatch: 2, feeds: { x }, rows: 5, batchSize: 3, consume: (_s, _c, out) => seen.push(...(out.y.data as Float32Array)) });
    expect(runs).toEqual([2, 2, 2]);
    expect(seen).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });
});
