import type { Tensor } from '@blameboard/core';
import { fillBatch, type FillKind } from './fills.js';
import type { MetricRequest } from '../types.js';

/** Methods whose attributions explain f_t(x) − f_t(x′) against their `baseline` x′ (SPEC §3). */
export const BASELINE_METHODS: readonly string[] = ['integrated-gradients', 'deeplift'];

/**
 * The baseline x′ a method ran with, rebuilt from its resolved parameters (`baseline`,
 * `blurSigma`, `seed`), or null for methods without one.
 */
export function methodBaseline(request: MetricRequest, inputs: Tensor = request.inputs): Tensor | null {
  const method = request.method;
  if (!method || !BASELINE_METHODS.includes(method.id)) return null;
  const kind = method.params.baseline as FillKind;
  return fillBatch(kind, inputs, {
    seed: method.params.seed as number,
    mean: request.data?.mean,
    range: request.data?.range,
    imageShape: request.data?.imageShape,
    blurSigma: method.params.blurSigma as number,
    owner: `baseline of ${method.id}`,
  });
}
