import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Rng, sizeOf } from '@blameboard/core';
import type { Architecture } from './architectures.js';

export interface TrainingData {
  /** Row-major samples, each `sizeOf(arch.trainShape)` floats (NCHW with C = 1 is the same bytes as NHWC). */
  x: Float32Array;
  /** Class per sample, or the regression target. */
  y: Int32Array | Float32Array;
  n: number;
}

export interface TrainResult {
  model: tfl.LayersModel;
  seconds: number;
  finalLoss: number;
}

const softmaxCrossEntropy = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => tf.losses.softmaxCrossEntropy(yTrue, yPred);
const meanSquaredError = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => tf.losses.meanSquaredError(yTrue, yPred);

/**
 * Minibatch Adam with our own seeded shuffling (tfjs `fit` shuffles with Math.random), so a seed
 * gives the same model on every run of the same backend. The models output logits; the loss
 * applies the softmax.
 */
export async function trainModel(
  arch: Architecture,
  data: TrainingData,
  opts: { seed?: number; epochs?: number; onProgress?: (line: string) => void } = {},
): Promise<TrainResult> {
  const seed = opts.seed ?? arch.seed;
  const epochs = opts.epochs ?? arch.epochs;
  const model = arch.build(seed);
  const optimizer = tf.train.adam(arch.learningRate);
  model.compile({
    optimizer,
    loss: arch.task === 'classification' ? softmaxCrossEntropy : meanSquaredError,
  });
  const rng = new Rng(seed);
  const features = sizeOf(arch.trainShape);
  const order = Array.from({ length: data.n }, (_, i) => i);
  const start = performance.now();
  let finalLoss = NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    // Adam reads its learning rate on every step; the field is protected in the typings only.
    const lr = epoch >= epochs - (arch.decayEpochs ?? 0) ? arch.learningRate / 10 : arch.learningRate;
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    rng.shuffle(order);
    let lossSum = 0;
    let batches = 0;
    for (let b = 0; b < data.n; b += arch.batchSize) {
      const rows = order.slice(b, Math.min(b + arch.batchSize, data.n));
      const xb = new Float32Array(rows.length * features);
      rows.forEach((r, k) => xb.set(data.x.subarray(r * features, (r + 1) * features), k * features));
      const xs = tf.tensor(xb, [rows.length, ...arch.trainShape]);
      const ys =
        arch.task === 'classification'
          ? tf.oneHot(tf.tensor1d(Int32Array.from(rows, (r) => data.y[r]), 'int32'), 10)
          : tf.tensor2d(Float32Array.from(rows, (r) => data.y[r]), [rows.length, 1]);
      const loss = await model.trainOnBatch(xs, ys);
      tf.dispose([xs, ys]);
      lossSum += Array.isArray(loss) ? loss[0] : loss;
      batches++;
    }
    finalLoss = lossSum / batches;
    const elapsed = (performance.now() - start) / 1000;
    opts.onProgress?.(`${arch.id}: epoch ${epoch + 1}/${epochs} lr ${lr} loss ${finalLoss.toFixed(4)} (${elapsed.toFixed(1)} s)`);
  }
  return { model, seconds: (performance.now() - start) / 1000, finalLoss };
}

/** Model outputs on `x` ([n, …trainShape]) in batches, as one row-major array. */
export function predict(model: tfl.LayersModel, x: Float32Array, n: number, shape: number[], batch = 500): Float32Array {
  const features = sizeOf(shape);
  const parts: Float32Array[] = [];
  for (let b = 0; b < n; b += batch) {
    const m = Math.min(batch, n - b);
    const out = tf.tidy(() => {
      const xs = tf.tensor(x.subarray(b * features, (b + m) * features), [m, ...shape]);
      return model.predict(xs) as tf.Tensor;
    });
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const total = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    total.set(p, off);
    off += p.length;
  }
  return total;
}
