import type { LoadedModel, RowBudget, Tensor } from '@blameboard/core';
import type { DataContext, ExplainResult } from '@blameboard/methods';
import { explain } from '@blameboard/methods';

/** Re-explains inputs at targets with one fixed method configuration (and model). */
export type Explainer = (inputs: Tensor, targets: Int32Array) => Promise<ExplainResult>;

export interface MethodConfig {
  id: string;
  params: Record<string, unknown>;
}

export function methodExplainer(
  model: LoadedModel,
  method: MethodConfig,
  data: DataContext | undefined,
  budget: RowBudget,
): Explainer {
  return (inputs, targets) =>
    explain({ model, inputs, targets, method: method.id, params: method.params, data, batchSize: budget.batchSize, memory: budget.memory });
}
