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
  let size = Math.max(1, Math.floor(s.batchSize));
  // A fixed-batch model runs whole multiples of its batch, so only the last chunk carries padding.
  if (s.fixedBatch) size = Math.max(s.fixedBatch, size - (size % s.fixedBatch));
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
