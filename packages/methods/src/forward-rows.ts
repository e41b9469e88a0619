import { cachedSession, sizeOf, type LoadedModel, type Tensor } from '@blameboard/core';
import { DEFAULT_BATCH_SIZE, modelKey } from './compiled.js';
import { streamRows } from './row-stream.js';

export interface ForwardRows {
  model: LoadedModel;
  rows: number;
  batchSize?: number;
  fill(row: number, x: Float32Array): void;
  consume(row: number, logits: Float32Array): void;
}

/**
 * Streams derived inputs through the model's own logit graph (forward-only methods run on any
 * model onnxruntime can run, whether or not the IR can model it).
 */
export async function streamForward(r: ForwardRows): Promise<void> {
  const session = await cachedSession(`logits:${modelKey(r.model)}`, () => r.model.logitOnnx);
  const out = session.outputNames[0];
  await streamRows({
    session,
    fixedBatch: session.fixedBatch,
    inputs: [{ name: r.model.inputName, shape: r.model.inputShape }],
    rows: r.rows,
    batchSize: r.batchSize ?? DEFAULT_BATCH_SIZE,
    fill: (row, [x]) => r.fill(row, x),
    consume: (row, o) => r.consume(row, o[out]),
  });
}

/** The target logit f_t(x) of every sample. */
export async function targetLogits(model: LoadedModel, inputs: Tensor, targets: Int32Array, batchSize?: number): Promise<Float64Array> {
  const per = sizeOf(inputs.shape.slice(1));
  const x = inputs.data as Float32Array;
  const out = new Float64Array(inputs.shape[0]);
  await streamForward({
    model,
    rows: inputs.shape[0],
    batchSize,
    fill: (row, xRow) => xRow.set(x.subarray(row * per, (row + 1) * per)),
    consume: (row, logits) => (out[row] = logits[targets[row]]),
  });
  return out;
}

/** All logits [N, C]. */
export async function allLogits(model: LoadedModel, inputs: Tensor, batchSize?: number): Promise<Float32Array> {
  const per = sizeOf(inputs.shape.slice(1));
  const x = inputs.data as Float32Array;
  const c = model.outputSize;
  const out = new Float32Array(inputs.shape[0] * c);
  await streamForward({
    model,
    rows: inputs.shape[0],
    batchSize,
    fill: (row, xRow) => xRow.set(x.subarray(row * per, (row + 1) * per)),
    consume: (row, logits) => out.set(logits.subarray(0, c), row * c),
  });
  return out;
}
