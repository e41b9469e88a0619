import { createHash } from 'node:crypto';
import type { LoadedModel } from '../model.js';
import { validateInputs } from '../load-model.js';
import { concatBatch, sizeOf, sliceBatch, type Tensor } from '../tensor.js';
import { cachedSession, type OnnxSession, type SessionOptions } from './session.js';

export interface ForwardOptions {
  /** 'logit' (default) or 'probability' (softmax over the C outputs; a single output stays as is). */
  output?: 'logit' | 'probability';
  /** Rows per onnxruntime run: bounds memory. Default 256. */
  batchSize?: number;
  intraOpNumThreads?: number;
}

export const DEFAULT_BATCH_SIZE = 256;

const digests = new WeakMap<Uint8Array, string>();

/** Content hash of ONNX bytes: the cache key, so a model rebuilt with new weights never reuses a stale session. */
export function onnxDigest(bytes: Uint8Array): string {
  let d = digests.get(bytes);
  if (!d) {
    d = createHash('sha256').update(bytes).digest('hex');
    digests.set(bytes, d);
  }
  return d;
}

/** The cached session running a model's logit graph. */
export function logitSession(model: Pick<LoadedModel, 'logitOnnx'>, opts: SessionOptions = {}): Promise<OnnxSession> {
  return cachedSession(`logits:${onnxDigest(model.logitOnnx)}`, () => model.logitOnnx, opts);
}

/**
 * Runs the model's logit graph on onnxruntime in batches and returns [N, C] float32 logits
 * (or probabilities). Validates the inputs first (InputError on shape, dtype, NaN/Inf).
 */
export async function forward(model: LoadedModel, inputs: Tensor, opts: ForwardOptions = {}): Promise<Tensor> {
  validateInputs(model, inputs);
  const session = await logitSession(model, { intraOpNumThreads: opts.intraOpNumThreads });
  const n = inputs.shape[0];
  const fixed = session.fixedBatch;
  const size = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_BATCH_SIZE));
  const outName = session.outputNames[0];
  let y: Tensor;
  if (fixed === undefined) {
    y = (await session.runBatched({ [model.inputName]: inputs }, size))[outName];
  } else {
    // A model exported with a fixed batch runs in chunks of exactly that size; the last one is zero-padded.
    const parts: Tensor[] = [];
    for (let start = 0; start < n; start += fixed) {
      const end = Math.min(n, start + fixed);
      let chunk = sliceBatch(inputs, start, end);
      if (end - start < fixed) chunk = concatBatch([chunk, zeros(inputs, fixed - (end - start))]);
      const out = (await session.run({ [model.inputName]: chunk }))[outName];
      parts.push(sliceBatch(out, 0, end - start));
    }
    y = concatBatch(parts);
  }
  const c = y.shape.length <= 1 ? 1 : sizeOf(y.shape.slice(1));
  const logits = Float32Array.from(y.data as ArrayLike<number>);
  const out: Tensor = { dtype: 'float32', shape: [n, c], data: logits };
  return opts.output === 'probability' && c > 1 ? softmaxRows(out) : out;
}

function zeros(like: Tensor, rows: number): Tensor {
  const shape = [rows, ...like.shape.slice(1)];
  const Ctor = like.data.constructor as new (n: number) => Tensor['data'];
  return { dtype: like.dtype, shape, data: new Ctor(sizeOf(shape)) };
}

/** Row-wise softmax, shifted by the row maximum so large logits do not overflow. */
export function softmaxRows(t: Tensor): Tensor {
  const [n, c] = t.shape;
  const x = t.data as Float32Array;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, x[i * c + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(x[i * c + j] - max);
    for (let j = 0; j < c; j++) out[i * c + j] = Math.exp(x[i * c + j] - max) / sum;
  }
  return { dtype: 'float32', shape: [n, c], data: out };
}
