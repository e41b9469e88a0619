import { float32, loadNpy, sizeOf, validateTargets, writeFileAtomic, InputError, UsageError } from '@blameboard/core';
import { evaluate } from '@blameboard/metrics';
import { integerFlag, memoryFlag, optional, parseFlags, parseJsonFlag, required } from '../args.js';
import { dataContext, openModel, readClassFile, preprocessFlag, readInputs, reportImages, readTargets, withReference } from '../context.js';
import type { Io } from '../io.js';

export async function evaluateCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('evaluate', argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    preprocess: { type: 'string' },
    targets: { type: 'string' },
    attributions: { type: 'string' },
    method: { type: 'string' },
    'method-params': { type: 'string' },
    metric: { type: 'string' },
    params: { type: 'string' },
    labels: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'batch-size': { type: 'string' },
    memory: { type: 'string' },
  });
  const out = required('evaluate', values, 'out');
  const metric = required('evaluate', values, 'metric');
  const params = parseJsonFlag('evaluate', 'params', optional(values, 'params'));
  if (!optional(values, 'attributions') && !optional(values, 'method')) {
    throw new UsageError('give --attributions a.npy or --method ID');
  }
  const seed = integerFlag(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const batchSize = integerFlag(values, 'batch-size', 1);
  const memory = memoryFlag(values);
  const targetSpec = optional(values, 'targets');
  const labelsPath = optional(values, 'labels');
  if (metric === 'counterfactual-blame' && !labelsPath && (targetSpec === undefined || targetSpec === 'predicted')) {
    // Against predicted targets every sample counts as correctly classified: nothing to score.
    throw new UsageError('counterfactual-blame needs the gold labels: pass --labels y.npy (or --targets with the gold labels)');
  }
  const preprocess = preprocessFlag(optional(values, 'preprocess'));
  const resolved = await openModel(required('evaluate', values, 'model'));
  const loaded = readInputs(resolved.model, required('evaluate', values, 'inputs'), preprocess);
  const { inputs } = loaded;
  reportImages(loaded, io);
  const targets = await readTargets(resolved.model, inputs, targetSpec, { batchSize, memory });
  let labels: Int32Array | undefined;
  if (labelsPath) {
    labels = readClassFile(labelsPath, inputs.shape[0], 'labels');
    validateTargets(resolved.model, labels, inputs.shape[0]);
  }
  let attributions;
  const attributionsPath = optional(values, 'attributions');
  if (attributionsPath) {
    attributions = loadNpy(attributionsPath);
    if (attributions.dtype !== 'float32' && attributions.dtype !== 'float64') {
      throw new InputError(`attributions ${attributionsPath} have dtype ${attributions.dtype}; expected float32 (or float64)`);
    }
    if (attributions.dtype === 'float64') attributions = float32(attributions.shape, attributions.data as Float64Array);
    if (sizeOf(attributions.shape) !== sizeOf(inputs.shape) || attributions.shape[0] !== inputs.shape[0]) {
      throw new InputError(
        `attributions [${attributions.shape.join(', ')}] do not match inputs [${inputs.shape.join(', ')}]`,
      );
    }
    attributions = { ...attributions, shape: inputs.shape };
  }
  const methodId = optional(values, 'method');
  const method = methodId
    ? { id: methodId, params: parseJsonFlag('evaluate', 'method-params', optional(values, 'method-params')) }
    : undefined;
  const result = await evaluate({
    model: resolved.model,
    inputs,
    targets,
    metric,
    params,
    attributions,
    method,
    data: { ...(method ? await withReference(resolved.model, await dataContext(resolved, inputs, loaded), method.params) : await dataContext(resolved, inputs, loaded)), labels },
    seed,
    batchSize,
    memory,
  });
  writeFileAtomic(out, JSON.stringify(result, null, 2) + '\n');
  for (const [name, v] of Object.entries(result.values)) {
    const ci = v.ci95 ? ` [${v.ci95[0].toPrecision(4)}, ${v.ci95[1].toPrecision(4)}]` : '';
    io.err(`${metric}.${name} = ${v.mean === null ? 'n/a' : v.mean.toPrecision(5)}${ci} (${v.direction} is better)`);
  }
  // Samples left out of every mean are said, not only written: a NaN map must not pass for a score.
  if (result.invalid?.length) {
    const first = result.invalid[0];
    io.err(`${result.invalid.length} of ${inputs.shape[0]} samples invalid, left out of every value (sample ${first.index}: ${first.reason}${result.invalid.length > 1 ? '; …' : ''}); see "invalid" in ${out}`);
  }
  return 0;
}
