import { UsageError } from '@blameboard/core';
import { integerFlag, memoryFlag, optional, parseFlags, required, type FlagSpec } from '../args.js';
import type { Io } from '../io.js';
import { loadSweepConfig } from '../sweep/config.js';
import { INTERRUPTED, runSweep } from '../sweep/run.js';
import { SWEEP_LIMITS } from '../sweep/schema.js';

/** `--shard K/N`, else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (0-based) with JOB_COMPLETION_COUNT. */
export function parseShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { k: number; n: number } | null {
  let k: number;
  let n: number;
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag.trim());
    if (!m) throw new UsageError(`--shard must be K/N with 1 ≤ K ≤ N (e.g. 2/4), got '${flag}'`);
    k = Number(m[1]);
    n = Number(m[2]);
  } else if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = env.JOB_COMPLETION_INDEX;
    const count = env.JOB_COMPLETION_COUNT;
    if (!/^\d+$/.test(index) || count === undefined || !/^\d+$/.test(count)) {
      throw new UsageError(`JOB_COMPLETION_INDEX=${index} needs JOB_COMPLETION_COUNT (the Job's completions) as a whole number, got '${count ?? ''}'`);
    }
    k = Number(index) + 1;
    n = Number(count);
  } else {
    return null;
  }
  if (!Number.isSafeInteger(k) || !Number.isSafeInteger(n) || n < 1 || k < 1 || k > n || n > 10_000) {
    throw new UsageError(`shard ${k}/${n} is out of range: K must be 1…N and N at most 10000`);
  }
  return { k, n };
}

export const SWEEP_FLAGS = {
  config: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  shard: { type: 'string' },
  samples: { type: 'string' },
  quick: { type: 'boolean' },
  memory: { type: 'string' },
} as const satisfies FlagSpec;

/** Where a sweep writes when --out is not given (also `pnpm bench`'s folder). */
export const DEFAULT_SWEEP_OUT = 'reports/latest';

export async function sweepCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('sweep', argv, SWEEP_FLAGS);
  const configPath = required('sweep', values, 'config');
  const out = optional(values, 'out') ?? DEFAULT_SWEEP_OUT;
  if (out === '') throw new UsageError('--out must name a folder');
  const samples = integerFlag(values, 'samples', SWEEP_LIMITS.samples.min, SWEEP_LIMITS.samples.max);
  const shard = parseShard(optional(values, 'shard'));
  const memory = memoryFlag(values);
  const sweep = loadSweepConfig(configPath, { quick: Boolean(values.quick), samples });

  // Ctrl-C (or a TERM from a CI runner / Kubernetes) finishes the current cell and leaves a
  // folder that --resume continues; a second signal stops at once (every file is whole anyway).
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      io.err(`${signal} again: stopping now`);
      process.exit(INTERRUPTED);
    }
    stopping = true;
    io.err(`${signal}: stopping after the current cell (send it again to stop now)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const hint = ['blameboard sweep', '--config', configPath, '--out', out, '--resume', ...(values.quick ? ['--quick'] : []), ...(samples ? ['--samples', String(samples)] : []), ...(shard ? ['--shard', `${shard.k}/${shard.n}`] : [])].join(' ');
  try {
    return await runSweep(sweep, { out, resume: Boolean(values.resume), shard, io, shouldStop: () => stopping, resumeHint: hint, memory });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
