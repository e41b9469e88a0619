import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { mlpGraph } from '../onnx/test-utils/fixture-graphs.js';
import { writeOnnx } from '../onnx/write.js';
import { Rng } from '../rng.js';
import { float32, type Tensor } from '../tensor.js';
import { memoryNeeded } from './memory.js';
import { runAll, runRows, rowsPerRun, streamRows, type RowGraph } from './rows.js';
import { disposeSessions, OnnxSession } from './session.js';

afterAll(() => disposeSessions());

/** A stand-in session that doubles its input and records how many rows each run got. */
function fakeGraph(runs: number[], fixedBatch?: number, rowBytes = 1024): RowGraph {
  const session = {
    inputNames: ['x'],
    outputNames: ['y'],
    fixedBatch,
    run: async (feeds: Record<string, Tensor>) => {
      runs.push(feeds.x.shape[0]);
      return { y: { ...feeds.x, data: Float32Array.from(feeds.x.data as Float32Array, (v) => 2 * v) } };
    },
  } as unknown as OnnxSession;
  return { session, cost: { rowBytes, fixedBytes: 0 } };
}

describe('streamRows', () => {
  it('never runs more than batchSize rows, whatever the total', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await streamRows(fakeGraph(runs), {
      inputs: [{ name: 'x', shape: [3] }],
      rows: 10,
      budget: { batchSize: 4 },
      fill: (row, [x]) => x.fill(row),
      consume: (row, out) => seen.push(row, ...out.y),
    });
    expect(runs).toEqual([4, 4, 2]);
    expect(seen.slice(0, 8)).toEqual([0, 0, 0, 0, 1, 2, 2, 2]);
    expect(seen.length).toBe(40);
  });

  it('hands every row a zero-filled view even though the run buffer is reused', async () => {
    const runs: number[] = [];
    const firsts: number[] = [];
    await streamRows(fakeGraph(runs), {
      inputs: [{ name: 'x', shape: [2] }],
      rows: 5,
      budget: { batchSize: 2 },
      fill: (row, [x]) => {
        firsts.push(x[0], x[1]);
        x[row % 2] = row + 1; // leaves the other entry as it found it
      },
      consume: () => undefined,
    });
    expect(firsts).toEqual(new Array(10).fill(0));
  });

  it('pads to a model’s fixed batch and drops the padding', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await streamRows(fakeGraph(runs, 2), {
      inputs: [{ name: 'x', shape: [1] }],
      rows: 5,
      budget: { batchSize: 3 },
      fill: (row, [x]) => x.fill(row + 1),
      consume: (_row, out) => seen.push(out.y[0]),
    });
    expect(runs).toEqual([2, 2, 2]);
    expect(seen).toEqual([2, 4, 6, 8, 10]);
  });
});

/**
 * A session like a worker pool: a run starts when called and finishes when the test says so,
 * reading its feeds only then (as onnxruntime does). It logs the order of starts, fills and consumes.
 */
function deferredGraph(log: string[]): { graph: RowGraph; finishNext: () => void } {
  const pending: (() => void)[] = [];
  let started = 0;
  const session = {
    fixedBatch: undefined,
    run: (feeds: Record<string, Tensor>) => {
      const id = started++;
      log.push(`start ${id}`);
      return new Promise<Record<string, Tensor>>((resolve) =>
        pending.push(() => {
          log.push(`done ${id}`);
          resolve({ y: { ...feeds.x, data: Float32Array.from(feeds.x.data as Float32Array, (v) => 2 * v) } });
        }),
      );
    },
  } as unknown as OnnxSession;
  // Finishes runs as they are awaited: each tick, the oldest pending run completes.
  const finishNext = () => pending.shift()?.();
  return { graph: { session, cost: { rowBytes: 1024, fixedBytes: 0 } }, finishNext };
}

async function drive(job: Promise<void>, finishNext: () => void): Promise<void> {
  let over = false;
  void job.finally(() => (over = true));
  while (!over) {
    await new Promise((r) => setImmediate(r));
    finishNext();
  }
  await job;
}

describe('pipelined runs', () => {
  it('streamRows writes the next run while the current one runs, and consumes a run while the next one runs', async () => {
    const log: string[] = [];
    const { graph, finishNext } = deferredGraph(log);
    const seen: number[] = [];
    const job = streamRows(graph, {
      inputs: [{ name: 'x', shape: [2] }],
      rows: 6,
      budget: { batchSize: 2 },
      fill: (row, [x]) => {
        log.push(`fill ${row}`);
        x.fill(row + 1);
      },
      consume: (row, out) => {
        log.push(`consume ${row}`);
        seen.push(...out.y);
      },
    });
    await drive(job, finishNext);
    expect(log).toEqual([
      'fill 0', 'fill 1', 'start 0', 'fill 2', 'fill 3', 'done 0',
      'start 1', 'fill 4', 'fill 5', 'consume 0', 'consume 1', 'done 1',
      'start 2', 'consume 2', 'consume 3', 'done 2',
      'consume 4', 'consume 5',
    ]);
    // Each run read its own rows at its end, although the next run's rows were written meanwhile.
    expect(seen).toEqual([2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12]);
  });

  it('runRows starts the next run before consuming the last one, in row order', async () => {
    const log: string[] = [];
    const { graph, finishNext } = deferredGraph(log);
    const x: Tensor = { dtype: 'float32', shape: [5, 1], data: Float32Array.from([1, 2, 3, 4, 5]) };
    const seen: number[] = [];
    const job = runRows(graph, {
      feeds: { x },
      rows: 5,
      budget: { batchSize: 2 },
      consume: (start, count, out) => {
        log.push(`consume ${start}+${count}`);
        seen.push(...(out.y.data as Float32Array));
      },
    });
    await drive(job, finishNext);
    expect(log).toEqual(['start 0', 'done 0', 'start 1', 'consume 0+2', 'done 1', 'start 2', 'consume 2+2', 'done 2', 'consume 4+1']);
    expect(seen).toEqual([2, 4, 6, 8, 10]);
  });

  it('a failed run consumes nothing after it and leaves no unhandled rejection', async () => {
    let runs = 0;
    const session = {
      fixedBatch: undefined,
      run: async (feeds: Record<string, Tensor>) => {
        if (runs++ === 1) throw new Error('run 1 failed');
        return { y: feeds.x };
      },
    } as unknown as OnnxSession;
    const consumed: number[] = [];
    const x: Tensor = { dtype: 'float32', shape: [6, 1], data: new Float32Array(6) };
    await expect(runRows({ session, cost: { rowBytes: 1024, fixedBytes: 0 } }, { feeds: { x }, rows: 6, budget: { batchSize: 2 }, consume: (start) => void consumed.push(start) })).rejects.toThrow('run 1 failed');
    expect(consumed).toEqual([0]);
    // A consumer that throws while the next run is in flight: that run's failure stays handled.
    runs = 0;
    const failing = {
      fixedBatch: undefined,
      run: (feeds: Record<string, Tensor>) => (runs++ === 1 ? Promise.reject(new Error('late failure')) : Promise.resolve({ y: feeds.x })),
    } as unknown as OnnxSession;
    const consume = () => {
      throw new Error('consumer failed');
    };
    await expect(runRows({ session: failing, cost: { rowBytes: 1024, fixedBytes: 0 } }, { feeds: { x }, rows: 6, budget: { batchSize: 2 }, consume })).rejects.toThrow('consumer failed');
  });
});

describe('runRows', () => {
  const x: Tensor = { dtype: 'float32', shape: [5, 2], data: Float32Array.from({ length: 10 }, (_, i) => i) };

  it('runs a batch that fits as the caller’s tensor, uncopied', async () => {
    let fed: Tensor | undefined;
    const graph = fakeGraph([]);
    graph.session.run = async (feeds: Record<string, Tensor>) => ((fed = feeds.x), { y: feeds.x });
    await runRows(graph, { feeds: { x }, rows: 5, budget: { batchSize: 8 }, consume: () => undefined });
    expect(fed).toBe(x);
  });

  it('splits into runs of at most batchSize rows, each seeing its own rows', async () => {
    const runs: number[] = [];
    const seen: number[] = [];
    await runRows(fakeGraph(runs), {
      feeds: { x },
      rows: 5,
      budget: { batchSize: 2 },
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
    await runRows(fakeGraph(runs, 2), { feeds: { x }, rows: 5, budget: { batchSize: 3 }, consume: (_s, _c, out) => seen.push(...(out.y.data as Float32Array)) });
    expect(runs).toEqual([2, 2, 2]);
    expect(seen).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('runAll splits on axis 0 and gives the same result as one run (a real session)', async () => {
    const s = await OnnxSession.create(writeOnnx(mlpGraph()), { intraOpNumThreads: 1 });
    const graph: RowGraph = { session: s, cost: { rowBytes: 64, fixedBytes: 0 } };
    const input = float32([7, 4], new Rng(2).fillNormal(new Float32Array(28)));
    const whole = await s.run({ x: input });
    for (const batch of [1, 2, 3, 7, 100]) {
      const parts = await runAll(graph, { x: input }, { batchSize: batch });
      expect(parts.y.shape).toEqual([7, 3]);
      expect(parts.y.data).toEqual(whole.y.data);
    }
    await s.dispose();
  });
});

describe('rowsPerRun', () => {
  const mib = 2 ** 20;

  it('derives the default from the budget and the rows’ size: about 1 GiB of activations, at least 4 rows, at most 256', () => {
    const graph = fakeGraph([], undefined, 100 * mib);
    const memory = memoryNeeded(graph.cost, 7) + mib; // room for 7 rows, not 8
    expect(rowsPerRun(graph, { memory })).toBe(7);
    const plenty = 64 * 2 ** 30;
    expect(rowsPerRun(graph, { memory: plenty })).toBe(10); // 10 × 100 MiB ≤ 1 GiB
    expect(rowsPerRun(fakeGraph([], undefined, 600 * mib), { memory: plenty })).toBe(4);
    expect(rowsPerRun(fakeGraph([], undefined, 600 * mib), { memory: memoryNeeded({ rowBytes: 600 * mib, fixedBytes: 0 }, 2) })).toBe(2);
    expect(rowsPerRun(fakeGraph([], undefined, mib), { memory: plenty })).toBe(256);
  });

  it('refuses a budget that cannot hold one row, and a batch size beyond the budget, in one line', () => {
    const graph = fakeGraph([], undefined, 100 * mib);
    const tight = memoryNeeded(graph.cost, 1) - 1;
    expect(() => rowsPerRun(graph, { memory: tight })).toThrow(UsageError);
    expect(() => rowsPerRun(graph, { memory: tight })).toThrow(/cannot run this model: one row needs about/);
    const room = memoryNeeded(graph.cost, 4);
    expect(rowsPerRun(graph, { memory: room, batchSize: 4 })).toBe(4);
    expect(() => rowsPerRun(graph, { memory: room, batchSize: 5 })).toThrow(/batch size of 5 needs about .* more than the memory budget/);
  });

  it('gives a fixed-batch model exactly its batch, unless that batch cannot fit the budget', () => {
    expect(rowsPerRun(fakeGraph([], 3), { batchSize: 100 })).toBe(3);
    const huge = fakeGraph([], 2 ** 17, mib);
    expect(() => rowsPerRun(huge, { memory: 4 * 2 ** 30 })).toThrow(/fixes its batch at 131072 rows, which need about 128\.3G, more than the memory budget of 4G/);
    // A batch that fits the budget is still padded to: more than 1,024 rows is refused.
    expect(() => rowsPerRun(fakeGraph([], 2 ** 17, 1), { memory: 4 * 2 ** 30 })).toThrow(/fixes its batch at 131072 rows; at most 1024 are run/);
    expect(rowsPerRun(fakeGraph([], 1024, 1), { memory: 4 * 2 ** 30 })).toBe(1024);
  });
});

describe('runRows on a fixed-batch model with int64 feeds', () => {
  it('pads with 0n and drops the padding', async () => {
    const seen: bigint[] = [];
    const graph = fakeGraph([], 4);
    graph.session.run = async (feeds: Record<string, Tensor>) => ({ y: feeds.x });
    const x: Tensor = { dtype: 'int64', shape: [6, 1], data: BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n]) };
    await runRows(graph, { feeds: { x }, rows: 6, consume: (_s, count, out) => seen.push(...(out.y.data as BigInt64Array).subarray(0, count)) });
    expect(seen).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });
});
