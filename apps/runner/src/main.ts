import { isBlameboardError, printable } from '@blameboard/core';
import { processIo, type Io } from './io.js';

const USAGE = `usage: blameboard <command> [flags]
  explain  --model M --inputs X [--preprocess JSON] [--targets t.npy|N|predicted] --method ID [--params JSON] --out a.npy [--bias-out b.json] [--heatmap h.png] [--memory SIZE] [--batch-size N]
  evaluate --model M --inputs X [--preprocess JSON] [--targets …] (--attributions a.npy | --method ID [--method-params JSON]) --metric ID [--params JSON] [--labels y.npy] [--seed N] --out m.json [--memory SIZE] [--batch-size N]
  predict  --model M --inputs X [--preprocess JSON] --out logits.npy [--output logit|probability] [--memory SIZE] [--batch-size N]
  sweep    --config sweep.json [--out DIR] [--resume] [--shard K/N] [--samples N] [--quick] [--memory SIZE]
  report   RESULTS_DIR… --out DIR [--format md,html,json,csv]
  merge    SHARD_DIR… --out DIR
  train    [MODEL_ID…]
  list     methods|metrics|datasets|models [--json]
M is an ONNX path, a tfjs model.json or a zoo id (see 'blameboard list models'). --debug shows stacks.
X is a float .npy, an .npz (x.npz:name picks one of several arrays), a PNG/JPEG image, or a folder of
them (rows in file-name order); images take --preprocess '{"resize":256,"crop":224,"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]}'.
--memory SIZE (4G, 512M, 50%; default BLAMEBOARD_MEMORY, else half the machine's memory) bounds the run;
the rows per onnxruntime run (--batch-size) default to the most that fit it.`;

type Command = (argv: string[], io: Io) => Promise<number>;

// A Map, so that a command named like an Object property (__proto__, constructor, toString) is
// just an unknown command. Each command's module is imported when it runs, not before: `list`
// loads no model or training code, `explain` on an ONNX model no tfjs, and start-up pays only for
// the command given.
const COMMANDS = new Map<string, () => Promise<Command>>([
  ['explain', async () => (await import('./commands/explain.js')).explainCommand],
  ['evaluate', async () => (await import('./commands/evaluate.js')).evaluateCommand],
  ['predict', async () => (await import('./commands/predict.js')).predictCommand],
  ['sweep', async () => (await import('./commands/sweep.js')).sweepCommand],
  ['report', async () => (await import('./commands/report.js')).reportCommand],
  ['merge', async () => (await import('./commands/merge.js')).mergeCommand],
  ['train', async () => (await import('./commands/train.js')).trainCommand],
  ['list', async () => (await import('./commands/list.js')).listCommand],
]);

/** Commands that compile explanation graphs, and so use the on-disk compile cache. */
const COMPILING = new Set(['explain', 'evaluate', 'sweep']);

/** Runs one CLI invocation and returns its exit code: 0 ok, 2 bad input (one line), 1 a bug. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const debug = argv.includes('--debug');
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (!command) {
    // No command is a usage error: the usage goes to stderr, where errors go.
    io.err(`blameboard: give a command\n${USAGE}`);
    return 2;
  }
  const load = COMMANDS.get(command);
  if (!load) {
    io.err(`blameboard: unknown command '${printable(command)}'; commands: ${[...COMMANDS.keys()].join(', ')}`);
    return 2;
  }
  try {
    const run = await load();
    if (COMPILING.has(command)) {
      // Compiled graphs persist between runs (BLAMEBOARD_CACHE_DIR moves the folder or, as `off`, turns this off).
      const { defaultCacheDir, useCompileCache } = await import('@blameboard/methods');
      useCompileCache(defaultCacheDir());
    }
    return await run(rest, io);
  } catch (e) {
    if (isBlameboardError(e)) {
      io.err(`blameboard ${command}: ${printable(e.message)}`);
      if (debug && e.stack) io.err(e.stack);
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`blameboard ${command}: internal error: ${printable(err?.message ?? String(e))}`);
    if (debug && err?.stack) io.err(err.stack);
    else io.err('(run again with --debug for the stack; this is a bug, please report it)');
    return 1;
  }
}
