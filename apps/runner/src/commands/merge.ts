import { parseFlags, required } from '../args.js';
import type { Io } from '../io.js';
import { mergeShards } from '../sweep/merge.js';

export async function mergeCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('merge', argv, { out: { type: 'string' } });
  return mergeShards(positionals, required('merge', values, 'out'), io);
}
