import { sizeOf, type OnnxSession, type Tensor } from '@blameboard/core';
import { runRows } from './compiled.js';

export interface RowInput {
  name: string;
  /** Shape of one row (without the batch axis). */
  shape: number[];
}

export interface RowStream {
  session: OnnxSession;
  fixedBatch?: number;
  inputs: RowInput[];
  /** Total number of rows to run. */
  rows: number;
  /** Rows per run: memory is bounded by this, not by `rows`. */
  batchSize: number;
  /** Writes row `row` of every input into `views` (one zero-filled view per input, in order). */
  fill(row: number, views: Float32Array[]): void;
  /** Receives the outputs of row `row` (views valid only during the call). */
  consume(row: number, outputs: Record<string, Float32Array>): void;
}

/**
 * Runs derived rows (α-scaled inputs, noisy copies, occluded copies) through a session in chunks
 * of `batchSize`, generating each chunk just before it runs and folding its outputs into the
 * caller's accumulators right after, so peak memory never depends on steps or samples.
 */
export async function streamRows(s: RowStream): Promise<void> {
  const size = chunkSize(s.batchSize, s.fixedBatch);
  const per = s.inputs.map((i) => sizeOf(i.shape));
  for (let start = 0; start < s.rows; start += size) {
    const count = Math.min(size, s.rows - start);
    const feeds: Record<string, Tensor> = {};
    const buffers = s.inputs.map((input, k) => {
      const data = new Float32Array(count * per[k]);
      feeds[input.name] = { dtype: 'float32', shape: [count, ...input.shape], data };
      return data;
    });
    for (let r = 0; r < count; r++) s.fill(start + r, buffers.map((b, k) => b.subarray(r * per[k], (r + 1) * per[k])));
    const out = await runRows(s.session, feeds, s.fixedBatch);
    const names = Object.keys(out);
    const outPer = names.map((n) => out[n].data.length / count);
    for (let r = 0; r < count; r++) {
      const views: Record<string, Float32Array> = {};
      names.forEach((n, k) => (views[n] = (out[n].data as Float32Array).subarray(r * outPer[k], (r + 1) * outPer[k])));
      s.consume(start + r, views);
    }
  }
}

/** Rows per run: `batchSize`, rounded down to whole multiples of a fixed batch so only the last chunk carries padding. */
function chunkSize(batchSize: number, fixedBatch?: number): number {
  const size = Math.max(1, Math.floor(batchSize));
  return fixedBatch ? Math.max(fixedBatch, size - (size % fixedBatch)) : size;
}

export interface ChunkRun {
  session: OnnxSession;
  fixedBatch?: number;
  /** Whole feeds of `rows` rows each (the caller's tensors: chunks are views into them, never copies). */
  feeds: Record<string, Tensor>;
  rows: number;
  batchSize: number;
  /** Receives the outputs of rows start … start + count − 1 (fresh tensors the callee may keep). */
  consume(start: number, count: number, outputs: Record<string, Tensor>): void;
}

/**
 * Runs feeds that already exist whole (the samples themselves, one-hot seeds) in chunks of
 * `batchSize` rows. Unlike `streamRows` nothing is copied row by row: a batch that fits runs as
 * the caller's tensors, larger ones as views into them.
 */
export async function runChunks(c: ChunkRun): Promise<void> {
  const size = chunkSize(c.batchSize, c.fixedBatch);
  const entries = Object.entries(c.feeds);
  for (let start = 0; start < c.rows; start += size) {
    const count = Math.min(size, c.rows - start);
    let feeds = c.feeds;
    if (count !== c.rows) {
      feeds = {};
      for (const [name, t] of entries) {
        const per = t.data.length / c.rows;
        feeds[name] = { dtype: t.dtype, shape: [count, ...t.shape.slice(1)], data: t.data.subarray(start * per, (start + count) * per) as Tensor['data'] };
      }
    }
    c.consume(start, count, await runRows(c.session, feeds, c.fixedBatch));
  }
}
