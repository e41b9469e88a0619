import { isBlameboardError } from '@blameboard/core';
import { defaultCacheDir, useCompileCache } from '@blameboard/methods';
import { evaluateCommand } from './commands/evaluate.js';
import { explainCommand } from './commands/explain.js';
import { listCommand } from './commands/list.js';
import { predictCommand } from './commands/predict.js';
import { trainCommand } from './commands/train.js';
import { processIo, type Io } from './io.js';

const USAGE = `usage: blameboard <command> [flags]
  explain  --model M --inputs x.npy [--targets t.npy|N|predicted] --method ID [--params JSON] --out a.npy [--bias-out b.json] [--heatmap h.png] [--memory SIZE] [--batch-size N]
  evaluate --model M --inputs x.npy [--targets …] (--attributions a.npy | --method ID [--method-params JSON]) --metric ID [--params JSON] [--labels y.npy] [--seed N] --out m.json [--memory SIZE] [--batch-size N]
  predict  --model M --inputs x.npy --out logits.npy [--output logit|probability] [--memory SIZE] [--batch-size N]
  train    [MODEL_ID…]
  list     methods|metrics|datasets|models [--json]
M is an ONNX path, a tfjs model.json or a zoo id (see 'blameboard list models'). --debug shows stacks.
--memory SIZE (4G, 512M, 50%; default BLAMEBOARD_MEMORY, else half the machine's memory) bounds the run;
the rows per onnxruntime run (--batch-size) default to the most that fit it.`;

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  explain: explainCommand,
  evaluate: evaluateCommand,
  predict: predictCommand,
  train: trainCommand,
  list: listCommand,
};

/** Runs one CLI invocation and returns its exit code: 0 ok, 2 bad input (one line), 1 a bug. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const debug = argv.includes('--debug');
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  // Compiled graphs persist between runs (BLAMEBOARD_CACHE_DIR moves the folder or, as `off`, turns this off).
  useCompileCache(defaultCacheDir());
  const run = COMMANDS[command];
  if (!run) {
    io.err(`blameboard: unknown command '${command}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (isBlameboardError(e)) {
      io.err(`blameboard ${command}: ${e.message}`);
      if (debug && e.stack) io.err(e.stack);
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`blameboard ${command}: internal error: ${err?.message ?? String(e)}`);
    if (debug && err?.stack) io.err(err.stack);
    else io.err('(run again with --debug for the stack; this is a bug, please report it)');
    return 1;
  }
}
