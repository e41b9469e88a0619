import type { RowBudget, Tensor } from '@blameboard/core';
import { forwardBatchSize, UsageError, sizeOf } from '@blameboard/core';
import type { MetricRequest } from './types.js';

/** The rows-per-run budget a request carries to every onnxruntime run it makes. */
export function budgetOf(request: { batchSize?: number; memory?: number }): RowBudget {
  return { batchSize: request.batchSize, memory: request.memory };
}

/** Perturbed rows a metric may hold at once: four forward runs' worth. */
export async function maxRowsOf(request: MetricRequest): Promise<number> {
  return 4 * (await forwardBatchSize(request.model, budgetOf(request)));
}

export function requireAttributions(request: MetricRequest, metric: string): Tensor {
  const a = request.attributions;
  if (!a) throw new UsageError(`metric '${metric}' scores attributions: pass attributions or a method`);
  if (a.shape.join(',') !== request.inputs.shape.join(',')) {
    throw new UsageError(
      `metric '${metric}': attributions have shape [${a.shape.join(',')}] but the inputs have [${request.inputs.shape.join(',')}]`,
    );
  }
  return a;
}

export function requireMethod(request: MetricRequest, metric: string): { id: string; params: Record<string, unknown> } {
  if (!request.method) throw new UsageError(`metric '${metric}' re-explains the inputs: pass a method (--method)`);
  return request.method;
}

export function sampleShapeOf(t: Tensor): number[] {
  return t.shape.slice(1);
}

export function sampleSize(t: Tensor): number {
  return sizeOf(t.shape.slice(1));
}

/** The rows of `t` for sample n (a view, no copy). */
export function sampleView(t: Tensor, n: number): Float32Array {
  const d = sampleSize(t);
  return (t.data as Float32Array).subarray(n * d, (n + 1) * d);
}
