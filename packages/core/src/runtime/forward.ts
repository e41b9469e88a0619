import type { LoadedModel } from '../model.js';
import { validateInputs } from '../load-model.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { logitGraph } from './logit-graph.js';
import { runRows, rowsPerRun, streamRows, type RowBudget } from './rows.js';
import { softmaxAt, softmaxInto } from './softmax.js';

export type OutputKind = 'logit' | 'probability';

export interface ForwardOptions extends RowBudget {
  /** 'logit' (default) or 'probability' (softmax over the C outputs; a single output stays as is). */
  output?: OutputKind;
  intraOpNumThreads?: number;
}

/**
 * Runs the model's logit graph on onnxruntime and returns [N, C] float32 logits (or
 * probabilities). Validates the inputs first (InputError on shape, dtype, NaN/Inf).
 */
export async function forward(model: LoadedModel, inputs: Tensor, opts: ForwardOptions = {}): Promise<Tensor> {
  validateInputs(model, inputs);
  const graph = await logitGraph(model, { intraOpNumThreads: opts.intraOpNumThreads });
  const n = inputs.shape[0];
  const outName = graph.session.outputNames[0];
  let c = 0;
  let out: Float32Array | undefined;
  await runRows(graph, {
    feeds: { [model.inputName]: inputs },
    rows: n,
    budget: opts,
    consume(start, count, outputs) {
      const y = outputs[outName];
      c ||= y.shape.length <= 1 ? 1 : sizeOf(y.shape.slice(1));
      out ??= new Float32Array(n * c);
      out.set(y.data as ArrayLike<number> as Float32Array, start * c);
    },
  });
  const logits: Tensor = { dtype: 'float32', shape: [n, c], data: out! };
  if (opts.output !== 'probability' || c <= 1) return logits;
  const p = new Float32Array(n * c);
  softmaxInto(out!, c, p);
  return { dtype: 'float32', shape: [n, c], data: p };
}

/**
 * f_t of every row: its target's logit, or probability with exactly forward()'s arithmetic, as a
 * float64 holding forward()'s float32 value. For rows the caller built from inputs it has
 * already validated (finite, the model's shape and dtype): no validation scan, and each run
 * reads a view of `inputs`.
 */
export async function targetOutputs(model: LoadedModel, inputs: Tensor, targets: Int32Array, opts: ForwardOptions = {}): Promise<Float64Array> {
  const graph = await logitGraph(model, { intraOpNumThreads: opts.intraOpNumThreads });
  const outName = graph.session.outputNames[0];
  const out = new Float64Array(inputs.shape[0]);
  const probability = opts.output === 'probability';
  await runRows(graph, {
    feeds: { [model.inputName]: inputs },
    rows: inputs.shape[0],
    budget: opts,
    consume(start, count, outputs) {
      const y = outputs[outName];
      const c = y.shape.length <= 1 ? 1 : sizeOf(y.shape.slice(1));
      const v = y.data instanceof Float32Array ? y.data : Float32Array.from(y.data as ArrayLike<number>);
      for (let i = 0; i < count; i++) {
        const t = targets[start + i];
        out[start + i] = probability && c > 1 ? Math.fround(softmaxAt(v, i * c, c, t)) : v[i * c + t];
      }
    },
  });
  return out;
}

export interface ForwardStream extends RowBudget {
  rows: number;
  /** Writes row `row`'s input (a zero-filled view). */
  fill(row: number, x: Float32Array): void;
  /** Receives row `row`'s logits (a view valid only during the call). */
  consume(row: number, logits: Float32Array): void;
}

/**
 * Streams derived inputs through the model's own logit graph: forward-only methods and metrics
 * run on any model onnxruntime can run, whether or not the IR can model it.
 */
export async function forwardRows(model: LoadedModel, s: ForwardStream): Promise<void> {
  const graph = await logitGraph(model);
  const outName = graph.session.outputNames[0];
  await streamRows(graph, {
    inputs: [{ name: model.inputName, shape: model.inputShape }],
    rows: s.rows,
    budget: s,
    fill: (row, [x]) => s.fill(row, x),
    consume: (row, o) => s.consume(row, o[outName]),
  });
}

/** Rows per forward run of this model under the budget (metrics size their own row buffers by it). */
export async function forwardBatchSize(model: LoadedModel, budget: RowBudget = {}): Promise<number> {
  return rowsPerRun(await logitGraph(model), budget);
}
