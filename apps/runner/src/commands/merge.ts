import { parseFlags, required, type FlagSpec } from '../args.js';
import type { Io } from '../io.js';
import { mergeShards } from '../sweep/merge.js';

export const MERGE_FLAGS = { out: { type: 'string' } } as const satisfies FlagSpec;

export async function mergeCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('merge', argv, MERGE_FLAGS);
  return mergeShards(positionals, required('merge', values, 'out'), io);
}
