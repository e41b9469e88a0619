import { npyParts, writeFilesAtomic, type FileData } from '@blameboard/core';
import { explain } from '@blameboard/methods';
import { integerFlag, memoryFlag, optional, parseFlags, parseJsonFlag, required } from '../args.js';
import { dataContext, openModel, preprocessFlag, readInputs, reportImages, readTargets, withReference } from '../context.js';
import { renderHeatmaps } from '@blameboard/reports';
import type { Io } from '../io.js';
import { refuseNonFinite } from '../non-finite.js';

export async function explainCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('explain', argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    preprocess: { type: 'string' },
    targets: { type: 'string' },
    method: { type: 'string' },
    params: { type: 'string' },
    out: { type: 'string' },
    'bias-out': { type: 'string' },
    'batch-size': { type: 'string' },
    memory: { type: 'string' },
    heatmap: { type: 'string' },
  });
  const out = required('explain', values, 'out');
  const method = required('explain', values, 'method');
  const params = parseJsonFlag('explain', 'params', optional(values, 'params'));
  const batchSize = integerFlag(values, 'batch-size', 1);
  const preprocess = preprocessFlag(optional(values, 'preprocess'));
  const memory = memoryFlag(values);
  const resolved = await openModel(required('explain', values, 'model'));
  const loaded = readInputs(resolved.model, required('explain', values, 'inputs'), preprocess);
  const { inputs } = loaded;
  reportImages(loaded, io);
  const targets = await readTargets(resolved.model, inputs, optional(values, 'targets'), { batchSize, memory });
  const started = performance.now();
  const result = await explain({
    model: resolved.model,
    inputs,
    targets,
    method,
    params,
    data: await withReference(resolved.model, await dataContext(resolved, inputs, loaded), params),
    batchSize,
    memory,
  });
  const ms = performance.now() - started;
  refuseNonFinite(result.attributions, `the attributions of '${method}'`, 'a float32 overflow or a NaN inside the model: check the parameters, e.g. the baseline, and the scale of the inputs');
  // Every result is staged first and renamed into place together: all of them or none.
  const files: { path: string; data: FileData }[] = [{ path: out, data: npyParts(result.attributions) }];
  const biasOut = optional(values, 'bias-out');
  if (biasOut) {
    files.push({ path: biasOut, data: Buffer.from(JSON.stringify({ method, params, biasRelevance: result.biasRelevance ?? [] }, null, 2) + '\n') });
  }
  const heatmap = optional(values, 'heatmap');
  if (heatmap) files.push({ path: heatmap, data: renderHeatmaps(inputs, result.attributions) });
  writeFilesAtomic(files);
  io.err(`${method}: ${inputs.shape[0]} inputs in ${ms.toFixed(0)} ms → ${files.map((f) => f.path).join(', ')}`);
  return 0;
}
