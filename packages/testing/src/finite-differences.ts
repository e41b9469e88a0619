import { type IrGraph, OnnxSession, runAll, sessionGraph, type Tensor, writeOnnx } from '@blameboard/core';
import { toFloat64Graph } from './float64-graph.js';

/**
 * Central differences (f_t(x + h·e_i) − f_t(x − h·e_i)) / 2h of every input coordinate, evaluated
 * by onnxruntime on the float64 twin of the graph. All 2·N·d perturbed rows go in one batched run.
 */
export async function finiteDifferences(graph: IrGraph, x: Tensor, targets: Int32Array, h: number): Promise<Float64Array> {
  const session = await OnnxSession.create(writeOnnx(toFloat64Graph(graph)), { intraOpNumThreads: 1 });
  try {
    const [n, ...rest] = x.shape;
    const d = rest.reduce((p, v) => p * v, 1);
    const rows = new Float64Array(2 * n * d * d);
    for (let s = 0; s < n; s++) {
      for (let i = 0; i < d; i++) {
        const plus = (2 * (s * d + i)) * d;
        const minus = plus + d;
        for (let j = 0; j < d; j++) rows[plus + j] = rows[minus + j] = Number(x.data[s * d + j]);
        rows[plus + i] += h;
        rows[minus + i] -= h;
      }
    }
    const feed: Tensor = { dtype: 'float64', shape: [2 * n * d, ...rest], data: rows };
    const out = (await runAll(sessionGraph(session, rest, undefined, 8), { [session.inputNames[0]]: feed }, { batchSize: 1024 }))[session.outputNames[0]];
    const classes = out.shape[1];
    const y = out.data as Float64Array;
    const grad = new Float64Array(n * d);
    for (let s = 0; s < n; s++) {
      for (let i = 0; i < d; i++) {
        const row = 2 * (s * d + i);
        grad[s * d + i] = (y[row * classes + targets[s]] - y[(row + 1) * classes + targets[s]]) / (2 * h);
      }
    }
    return grad;
  } finally {
    await session.dispose();
  }
}

/** The float64 twin's forward pass (to check the twin itself against the float32 model). */
export async function forward64(graph: IrGraph, x: Tensor): Promise<Float64Array> {
  const session = await OnnxSession.create(writeOnnx(toFloat64Graph(graph)), { intraOpNumThreads: 1 });
  try {
    const feed: Tensor = { dtype: 'float64', shape: [...x.shape], data: Float64Array.from(x.data as Float32Array) };
    return (await session.run({ [session.inputNames[0]]: feed }))[session.outputNames[0]].data as Float64Array;
  } finally {
    await session.dispose();
  }
}
