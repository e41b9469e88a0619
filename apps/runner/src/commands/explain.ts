import { saveNpy } from '@blameboard/core';
import { explain } from '@blameboard/methods';
import { optional, parseFlags, parseJsonFlag, required } from '../args.js';
import { dataContext, openModel, readInputs, readTargets, withReference } from '../context.js';
import { renderHeatmaps } from '../heatmap.js';
import { writeFileAtomic, writeJsonAtomic, type Io } from '../io.js';

export async function explainCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('explain', argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    targets: { type: 'string' },
    method: { type: 'string' },
    params: { type: 'string' },
    out: { type: 'string' },
    'bias-out': { type: 'string' },
    'batch-size': { type: 'string' },
    heatmap: { type: 'string' },
  });
  const out = required('explain', values, 'out');
  const method = required('explain', values, 'method');
  const params = parseJsonFlag('explain', 'params', optional(values, 'params'));
  const resolved = await openModel(required('explain', values, 'model'));
  const inputs = readInputs(resolved.model, required('explain', values, 'inputs'));
  const targets = await readTargets(resolved.model, inputs, optional(values, 'targets'));
  const started = performance.now();
  const result = await explain({
    model: resolved.model,
    inputs,
    targets,
    method,
    params,
    data: await withReference(resolved.model, await dataContext(resolved, inputs), params),
    batchSize: optional(values, 'batch-size') ? Number(optional(values, 'batch-size')) : undefined,
  });
  const ms = performance.now() - started;
  // Results are written only once everything succeeded: no half-written outputs.
  saveNpy(out, result.attributions);
  const biasOut = optional(values, 'bias-out');
  if (biasOut) {
    writeJsonAtomic(biasOut, { method, params, biasRelevance: result.biasRelevance ?? [] });
  }
  const heatmap = optional(values, 'heatmap');
  if (heatmap) writeFileAtomic(heatmap, renderHeatmaps(inputs, result.attributions));
  io.err(`${method}: ${inputs.shape[0]} inputs in ${ms.toFixed(0)} ms → ${out}`);
  return 0;
}
