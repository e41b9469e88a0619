import { perMapMetric } from './per-map.js';
import { entropy } from './statistics.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

export const complexity: Metric = {
  id: 'complexity',
  description: 'complexity: entropy of |R|/Σ|R| (Bhatt et al. 2020, as Quantus)',
  needs: 'attributions',
  params: [],
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    return perMapMetric(request, 'complexity', 'entropy', 'lower', entropy);
  },
};
