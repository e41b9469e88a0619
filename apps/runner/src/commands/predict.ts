import { forward, saveNpy } from '@blameboard/core';
import { choiceFlag, integerFlag, memoryFlag, optional, parseFlags, required } from '../args.js';
import { openModel, preprocessFlag, readInputs, reportImages } from '../context.js';
import type { Io } from '../io.js';
import { refuseNonFinite } from '../non-finite.js';

export async function predictCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('predict', argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    preprocess: { type: 'string' },
    out: { type: 'string' },
    output: { type: 'string' },
    'batch-size': { type: 'string' },
    memory: { type: 'string' },
  });
  const out = required('predict', values, 'out');
  const output = choiceFlag(values, 'output', ['logit', 'probability'] as const, 'logit');
  const preprocess = preprocessFlag(optional(values, 'preprocess'));
  const { model } = await openModel(required('predict', values, 'model'));
  const loaded = readInputs(model, required('predict', values, 'inputs'), preprocess);
  const { inputs } = loaded;
  reportImages(loaded, io);
  const result = await forward(model, inputs, { output, batchSize: integerFlag(values, 'batch-size', 1), memory: memoryFlag(values) });
  refuseNonFinite(result, `the model's ${output}s`, 'a float32 overflow inside the model: check the scale of the inputs');
  saveNpy(out, result);
  io.err(`wrote ${output}s [${result.shape.join(', ')}] to ${out}`);
  return 0;
}
