import { parseFlags } from '../args.js';
import type { Io } from '../io.js';

/** Trains (or rebuilds) zoo models; with no ids, the whole zoo. Progress goes to stderr, cards to stdout. */
export async function trainCommand(argv: string[], io: Io): Promise<number> {
  const { positionals } = parseFlags('train', argv, {});
  const { trainZoo } = await import('@blameboard/models/training');
  const cards = await trainZoo(positionals, { onProgress: (line) => io.err(line) });
  for (const card of cards) io.out(JSON.stringify(card));
  return 0;
}
