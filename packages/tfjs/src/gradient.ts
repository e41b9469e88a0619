import type * as TfCore from '@tensorflow/tfjs-core';
import { InputError, type IrGraph, type Tensor } from '@blameboard/core';
import { getTf } from './backend.js';
import type { Tf } from './backend.js';
import { inputToTf, runGraph } from './forward.js';

let gradientsRegistered: Promise<void> | null = null;

/**
 * tfjs-core's node build registers no gradient functions; tfjs-layers' build carries all of
 * them and registers them in tfjs's global registry when imported.
 */
export function registerGradients(): Promise<void> {
  gradientsRegistered ??= import('@tensorflow/tfjs-layers').then(() => undefined);
  return gradientsRegistered;
}

/** One-hot rows selecting f_{t_n} of sample n, checked against the output width. */
function targetMask(tf: Tf, targets: Int32Array, n: number, classes: number): TfCore.Tensor {
  if (targets.length !== n) throw new InputError(`got ${targets.length} targets for ${n} inputs`);
  const mask = new Float32Array(n * classes);
  targets.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= classes) {
      throw new InputError(`target ${t} of sample ${i} is out of range: the model has ${classes} outputs (0..${classes - 1})`);
    }
    mask[i * classes + t] = 1;
  });
  return tf.tensor2d(mask, [n, classes]);
}

/**
 * ∂(Σ_n f_{t_n}(x_n))/∂x by tfjs autodiff over the tfjs executor: row n is ∇f_{t_n}(x_n), since
 * the samples do not interact. It is the independent reference the compiled gradient graphs are
 * tested against, not the fast path (that is onnxruntime).
 */
export async function tfGradient(graph: IrGraph, x: Tensor, targets: Int32Array): Promise<Tensor> {
  const tf = await getTf();
  await registerGradients();
  const n = x.shape[0];
  const g = tf.tidy(() => {
    const f = (xin: TfCore.Tensor) => {
      const y = runGraph(tf, graph, xin);
      if (y.rank !== 2 || y.shape[0] !== n) {
        throw new InputError(`tfGradient needs an [N, C] output, the graph gives [${y.shape.join(', ')}]`);
      }
      return tf.sum(tf.mul(y, targetMask(tf, targets, n, y.shape[1] as number)));
    };
    return tf.grad(f)(inputToTf(tf, x));
  });
  try {
    const data = (await g.data()) as Float32Array;
    return { dtype: 'float32', shape: [...x.shape], data: Float32Array.from(data) };
  } finally {
    g.dispose();
  }
}
