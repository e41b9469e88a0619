import { resolveParams, UsageError, validateInputs, validateTargets, type LoadedModel, type Tensor } from '@blameboard/core';
import { blame } from './methods/blame.js';
import { deeplift } from './methods/deeplift.js';
import { deepTaylor } from './methods/deep-taylor.js';
import { edge } from './methods/edge.js';
import { gradientXInput } from './methods/gradient-x-input.js';
import { gradient } from './methods/gradient.js';
import { integratedGradients } from './methods/integrated-gradients.js';
import { lrp } from './methods/lrp.js';
import { occlusion } from './methods/occlusion.js';
import { random } from './methods/random.js';
import { smoothgrad } from './methods/smoothgrad.js';
import { uniform } from './methods/uniform.js';
import type { AttributionMethod, DataContext, ExplainResult } from './types.js';

/** Every attribution method, in the order `list methods` shows them. Adding one is one line here. */
export const methods: AttributionMethod[] = [
  gradient,
  gradientXInput,
  integratedGradients,
  smoothgrad,
  deeplift,
  lrp,
  deepTaylor,
  occlusion,
  blame,
  uniform,
  random,
  edge,
];

export function getMethod(id: string): AttributionMethod {
  const method = methods.find((m) => m.id === id);
  if (!method) throw new UsageError(`unknown method '${id}'; known methods: ${methods.map((m) => m.id).join(', ')}`);
  return method;
}

export interface ExplainArgs {
  model: LoadedModel;
  inputs: Tensor;
  targets: Int32Array;
  method: string;
  params?: Record<string, unknown>;
  data?: DataContext;
  /** Rows per onnxruntime run (default: derived from `memory`). */
  batchSize?: number;
  /** Memory budget in bytes (default: `defaultMemoryBudget()`, i.e. BLAMEBOARD_MEMORY or half the machine). */
  memory?: number;
}

/**
 * Explains `inputs` with one method: looks the method up, validates its parameters (unknown
 * names and bad values are refused, listing what is known) and the inputs and targets.
 */
export async function explain(args: ExplainArgs): Promise<ExplainResult> {
  const method = getMethod(args.method);
  const params = resolveParams(`method '${method.id}'`, method.params, args.params);
  validateInputs(args.model, args.inputs);
  validateTargets(args.model, args.targets, args.inputs.shape[0]);
  if (args.batchSize !== undefined && (!Number.isInteger(args.batchSize) || args.batchSize < 1)) {
    throw new UsageError(`batchSize must be a positive integer, got ${args.batchSize}`);
  }
  if (args.memory !== undefined && (!Number.isSafeInteger(args.memory) || args.memory < 1)) {
    throw new UsageError(`memory must be a positive number of bytes, got ${args.memory}`);
  }
  const { model, inputs, targets, data, batchSize, memory } = args;
  return method.explain({ model, inputs, targets, params, data, batchSize, memory });
}
