import { UsageError } from '../errors.js';
import { sizeOf, type Tensor, type TypedArray } from '../tensor.js';
import type { IrGraph } from '../ir/types.js';
import { defaultBatchSize, defaultMemoryBudget, formatBytes, MAX_FIXED_BATCH, memoryNeeded, rowBytesOf, UNSIZED_ROW_FACTOR, WEIGHT_COPIES, weightBytes, type GraphCost } from './memory.js';
import type { RunOptions } from './parallel.js';
import type { OnnxSession } from './session.js';

/** How many rows one onnxruntime run may take: a batch size, or a memory budget to derive it from. */
export interface RowBudget {
  /** Rows per run; default: derived from `memory` and the graph's activation sizes. */
  batchSize?: number;
  /** Bytes the whole process may use; default `defaultMemoryBudget()`. */
  memory?: number;
}

/** What the row runner runs: one onnxruntime session, or a compiled graph's ParallelSession. */
export interface RowSession {
  run(feeds: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>>;
  readonly fixedBatch: number | undefined;
}

/** A session with what the row runner needs to size its runs. */
export interface RowGraph<S extends RowSession = RowSession> {
  session: S;
  cost: GraphCost;
  /** Memory the worker sessions add when the graph runs on them (their copies of the weights). */
  workerBytes?: number;
}

/** Whether the worker sessions fit the budget beside `rows` rows per run. */
function workersFit(graph: RowGraph, rows: number, budget: RowBudget = {}): boolean {
  if (!graph.workerBytes) return true;
  const memory = budget.memory ?? defaultMemoryBudget();
  return memoryNeeded({ ...graph.cost, fixedBytes: graph.cost.fixedBytes + graph.workerBytes }, rows) <= memory;
}

/** What every run of a job of `rows` rows in runs of `size` tells the session (see RunOptions). */
function jobOptions(graph: RowGraph, size: number, rows: number, budget?: RowBudget): RunOptions {
  return { allowWorkers: workersFit(graph, size, budget), runsInJob: Math.ceil(rows / size) };
}

/**
 * A bare session as the runner sees it, costed from its IR when the caller has it, else from
 * the size of one input row (see UNSIZED_ROW_FACTOR).
 */
export function sessionGraph(session: OnnxSession, rowShape: number[], graph?: IrGraph, bytesPerValue = 4): RowGraph<OnnxSession> {
  const rowBytes = graph ? rowBytesOf(graph) : undefined;
  return {
    session,
    cost: { rowBytes: rowBytes ?? UNSIZED_ROW_FACTOR * bytesPerValue * sizeOf(rowShape), fixedBytes: graph ? WEIGHT_COPIES * weightBytes(graph) : 0 },
  };
}

/**
 * Rows per run: a model exported with a fixed batch always runs exactly that many (padded);
 * otherwise the caller's batch size or the budget's default. A batch size — the caller's or the
 * model's own — whose estimated working memory exceeds the budget is refused before anything is
 * allocated.
 */
export function rowsPerRun(graph: RowGraph, budget: RowBudget = {}): number {
  const memory = budget.memory ?? defaultMemoryBudget();
  const fixed = graph.session.fixedBatch;
  if (fixed !== undefined) {
    if (memoryNeeded(graph.cost, fixed) > memory) {
      throw new UsageError(
        `the model fixes its batch at ${fixed} rows, which need about ${formatBytes(memoryNeeded(graph.cost, fixed))}, more than the memory budget of ${formatBytes(memory)}`,
      );
    }
    // loadModel refuses such models; a session opened another way is checked here, before any padding is allocated.
    if (fixed > MAX_FIXED_BATCH) throw new UsageError(`the model fixes its batch at ${fixed} rows; at most ${MAX_FIXED_BATCH} are run (every run is padded to it)`);
    return fixed;
  }
  const batch = budget.batchSize;
  if (batch === undefined) return defaultBatchSize(graph.cost, memory);
  if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError(`batchSize must be a positive integer, got ${batch}`);
  if (memoryNeeded(graph.cost, batch) > memory) {
    throw new UsageError(
      `a batch size of ${batch} needs about ${formatBytes(memoryNeeded(graph.cost, batch))} for this model, more than the memory budget of ${formatBytes(memory)}; lower the batch size or raise --memory`,
    );
  }
  return batch;
}

export interface RowsRun {
  /** Whole feeds of `rows` rows each: chunks are views into them, never copies (except padding). */
  feeds: Record<string, Tensor>;
  rows: number;
  budget?: RowBudget;
  /** Receives the outputs of rows start … start + count − 1 (fresh tensors the callee may keep). */
  consume(start: number, count: number, outputs: Record<string, Tensor>): void;
}

/**
 * Runs feeds that exist whole (the samples, one-hot seeds, a baseline) in runs of
 * `rowsPerRun` rows. A batch that fits runs as the caller's tensors themselves; larger ones as
 * views into them. A fixed-batch model gets its last run zero-padded, the padding dropped.
 */
export async function runRows(graph: RowGraph, run: RowsRun): Promise<void> {
  const size = rowsPerRun(graph, run.budget);
  const fixed = graph.session.fixedBatch;
  const options = jobOptions(graph, size, run.rows, run.budget);
  const entries = Object.entries(run.feeds);
  for (const [name, t] of entries) {
    if (t.shape[0] !== run.rows) throw new UsageError(`feed '${name}' has ${t.shape[0]} rows, expected ${run.rows}`);
  }
  const padded = new Map<string, Tensor>();
  const runs = new Pipeline<{ start: number; count: number }>((done, out) => run.consume(done.start, done.count, fixed !== undefined && done.count !== fixed ? takeRows(out, done.count) : out));
  for (let start = 0; start < run.rows; start += size) {
    const count = Math.min(size, run.rows - start);
    let feeds = run.feeds;
    if (count !== run.rows || (fixed !== undefined && count !== fixed)) {
      feeds = {};
      for (const [name, t] of entries) {
        const per = t.data.length / run.rows;
        const view = t.data.subarray(start * per, (start + count) * per) as TypedArray;
        if (fixed === undefined || count === fixed) {
          feeds[name] = { dtype: t.dtype, shape: [count, ...t.shape.slice(1)], data: view };
          continue;
        }
        let pad = padded.get(name);
        if (!pad) {
          const Ctor = t.data.constructor as new (n: number) => TypedArray;
          pad = { dtype: t.dtype, shape: [fixed, ...t.shape.slice(1)], data: new Ctor(fixed * per) };
          padded.set(name, pad);
        }
        pad.data.fill((pad.data instanceof BigInt64Array ? 0n : 0) as never);
        (pad.data as Float32Array).set(view as Float32Array);
        feeds[name] = pad;
      }
    }
    await runs.next({ start, count }, () => graph.session.run(feeds, options));
  }
  runs.finish();
}

/**
 * Runs one at a time, each run's outputs handed on while the next one computes: a run is started,
 * then the previous run's outputs are consumed, then the run is awaited. On worker sessions the
 * consuming (and whatever the caller does before its next `next`) overlaps the run; on one
 * session, which onnxruntime-node runs on this thread once it yields, the order changes nothing.
 * Outputs are consumed in run order, exactly once, and never after a run failed.
 */
class Pipeline<T> {
  private previous: { tag: T; out: Record<string, Tensor> } | undefined;

  constructor(private readonly consume: (tag: T, out: Record<string, Tensor>) => void) {}

  async next(tag: T, start: () => Promise<Record<string, Tensor>>): Promise<void> {
    const running = start();
    // Handled here too: if consuming the previous outputs throws, this run's failure is not left unhandled.
    running.catch(() => undefined);
    this.flush();
    this.previous = { tag, out: await running };
  }

  /** Consumes the last run's outputs. */
  finish(): void {
    this.flush();
  }

  private flush(): void {
    const previous = this.previous;
    this.previous = undefined;
    if (previous) this.consume(previous.tag, previous.out);
  }
}

/** runRows collecting every output whole, [rows, …] (for callers that need them all at once). */
export async function runAll(graph: RowGraph, feeds: Record<string, Tensor>, budget?: RowBudget): Promise<Record<string, Tensor>> {
  const rows = Object.values(feeds)[0].shape[0];
  const whole: Record<string, Tensor> = {};
  await runRows(graph, {
    feeds,
    rows,
    budget,
    consume(start, count, outputs) {
      for (const [name, t] of Object.entries(outputs)) {
        if (count === rows) {
          whole[name] = t;
          continue;
        }
        const per = sizeOf(t.shape.slice(1));
        let w = whole[name];
        if (!w) {
          const Ctor = t.data.constructor as new (n: number) => TypedArray;
          w = whole[name] = { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data: new Ctor(rows * per) };
        }
        (w.data as Float32Array).set(t.data as Float32Array, start * per);
      }
    },
  });
  return whole;
}

/** The first `count` rows of every output (views: the padding of a fixed batch dropped). */
function takeRows(outputs: Record<string, Tensor>, count: number): Record<string, Tensor> {
  const kept: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const per = sizeOf(t.shape.slice(1));
    kept[name] = { dtype: t.dtype, shape: [count, ...t.shape.slice(1)], data: t.data.subarray(0, count * per) as TypedArray };
  }
  return kept;
}

export interface RowInput {
  name: string;
  /** Shape of one row (without the batch axis). */
  shape: number[];
}

export interface RowStream {
  inputs: RowInput[];
  /** Total number of rows to run. */
  rows: number;
  budget?: RowBudget;
  /**
   * Writes row `row` of every input into `views` (one zero-filled view per input, in order).
   * Rows are filled in order, but the next run's rows before the last run's outputs are
   * consumed: a row may not depend on earlier rows' outputs.
   */
  fill(row: number, views: Float32Array[]): void;
  /** Receives the outputs of row `row`, in order (views valid only during the call). */
  consume(row: number, outputs: Record<string, Float32Array>): void;
}

/**
 * Runs derived rows (α-scaled inputs, noisy copies, occluded copies) in runs of `rowsPerRun`,
 * generating each run's rows into one reused buffer just before it runs and folding its
 * outputs into the caller's accumulators right after, so memory never depends on the number
 * of rows (steps × samples).
 */
export async function streamRows(graph: RowGraph, s: RowStream): Promise<void> {
  const size = rowsPerRun(graph, s.budget);
  const fixed = graph.session.fixedBatch;
  const options = jobOptions(graph, size, s.rows, s.budget);
  const per = s.inputs.map((i) => sizeOf(i.shape));
  const capacity = Math.min(size, s.rows);
  const runRowsCount = fixed ?? capacity;
  // Two sets of run buffers (the second only for a job of several runs): the next run's rows are
  // written while the current run still reads its own.
  const buffers: Float32Array[][] = [];
  const bufferSet = (k: number) => (buffers[k] ??= per.map((p) => new Float32Array(runRowsCount * p)));
  const fillRun = (start: number, k: number): Record<string, Tensor> => {
    const count = Math.min(size, s.rows - start);
    const rows = fixed ?? count;
    const feeds: Record<string, Tensor> = {};
    const views = s.inputs.map((input, i) => {
      const data = bufferSet(k)[i].subarray(0, rows * per[i]);
      data.fill(0);
      feeds[input.name] = { dtype: 'float32', shape: [rows, ...input.shape], data };
      return data;
    });
    for (let r = 0; r < count; r++) s.fill(start + r, views.map((v, i) => v.subarray(r * per[i], (r + 1) * per[i])));
    return feeds;
  };
  const runs = new Pipeline<{ start: number; count: number; rows: number }>((done, out) => {
    const names = Object.keys(out);
    const outPer = names.map((n) => out[n].data.length / done.rows);
    for (let r = 0; r < done.count; r++) {
      const rowViews: Record<string, Float32Array> = {};
      names.forEach((n, k) => (rowViews[n] = (out[n].data as Float32Array).subarray(r * outPer[k], (r + 1) * outPer[k])));
      s.consume(done.start + r, rowViews);
    }
  });
  let feeds = fillRun(0, 0);
  for (let start = 0, k = 0; start < s.rows; start += size, k ^= 1) {
    const count = Math.min(size, s.rows - start);
    const current = feeds;
    await runs.next({ start, count, rows: fixed ?? count }, () => {
      const running = graph.session.run(current, options);
      // The next run's rows are written while this one runs (its buffers are the other set).
      if (start + size < s.rows) {
        try {
          feeds = fillRun(start + size, k ^ 1);
        } catch (e) {
          running.catch(() => undefined);
          throw e;
        }
      }
      return running;
    });
  }
  runs.finish();
}
