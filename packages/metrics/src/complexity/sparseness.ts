import { perMapMetric } from './per-map.js';
import { gini } from './statistics.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

export const sparseness: Metric = {
  id: 'sparseness',
  description: 'sparseness: Gini index of |R| (Chalasani et al. 2020, as Quantus)',
  needs: 'attributions',
  params: [],
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    return perMapMetric(request, 'sparseness', 'gini', 'higher', gini);
  },
};
