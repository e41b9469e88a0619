import { OnnxSession, runAll, sessionGraph, type Tensor } from '@blameboard/core';

/** Outputs of an ONNX model on `inputs`, run by onnxruntime in batches. */
export async function runOnnx(onnx: Uint8Array, inputs: Tensor, batchSize = 1000): Promise<Tensor> {
  const session = await OnnxSession.create(onnx);
  try {
    const out = await runAll(sessionGraph(session, inputs.shape.slice(1)), { [session.inputNames[0]]: inputs }, { batchSize });
    return out[session.outputNames[0]];
  } finally {
    await session.dispose();
  }
}

export function accuracy(logits: Tensor, labels: Int32Array | Float32Array): number {
  const [n, c] = logits.shape;
  const d = logits.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[i * c + j] > d[i * c + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct / n;
}

/** Coefficient of determination 1 − SS_res / SS_tot of predictions [n, 1] against targets. */
export function r2(pred: Tensor, target: Int32Array | Float32Array): number {
  const p = pred.data as Float32Array;
  let mean = 0;
  for (const t of target) mean += t;
  mean /= target.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < target.length; i++) {
    res += (target[i] - p[i]) ** 2;
    tot += (target[i] - mean) ** 2;
  }
  return 1 - res / tot;
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cannot compare outputs of ${a.length} and ${b.length} values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
