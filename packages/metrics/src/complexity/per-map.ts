import { sizeOf } from '@blameboard/core';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { requireAttributions } from '../request.js';
import type { MetricRequest, MetricResult } from '../types.js';

/** A metric that is one statistic of each sample's map. */
export function perMapMetric(
  request: MetricRequest,
  metric: string,
  value: string,
  direction: 'higher' | 'lower',
  statistic: (map: Float32Array) => number,
): MetricResult {
  const attributions = requireAttributions(request, metric);
  const invalid = new InvalidSamples();
  markNonFiniteAttributions(attributions, invalid);
  const n = attributions.shape[0];
  const d = sizeOf(attributions.shape.slice(1));
  const a = attributions.data as Float32Array;
  const per = Float64Array.from({ length: n }, (_, s) => (invalid.has(s) ? NaN : statistic(a.subarray(s * d, (s + 1) * d))));
  for (let s = 0; s < n; s++) if (Number.isNaN(per[s]) && !invalid.has(s)) invalid.mark(s, `${value} is undefined for an all-zero attribution`);
  const values = { [value]: aggregate(value, per, direction, { seed: request.seed ?? 0, invalid }) };
  const list = invalid.list();
  return { metric, params: request.params, values, ...(list.length ? { invalid: list } : {}) };
}
