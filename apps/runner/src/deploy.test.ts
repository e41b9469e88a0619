import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseFlags, type FlagSpec } from './args.js';
import { MERGE_FLAGS } from './commands/merge.js';
import { REPORT_FLAGS } from './commands/report.js';
import { parseShard, SWEEP_FLAGS } from './commands/sweep.js';

const ROOT = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const FLAGS: Record<string, FlagSpec> = { sweep: SWEEP_FLAGS, merge: MERGE_FLAGS, report: REPORT_FLAGS };

interface Invocation {
  command: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Every `blameboard COMMAND …` in a shell line, parsed with the CLI's own flag specs. */
function invocations(script: string): Invocation[] {
  return script
    .split(/&&|\n/)
    .map((part) => /blameboard\s+(\w+)\s+(.*)$/.exec(part.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const command = m[1];
      expect(Object.keys(FLAGS), `unknown command '${command}'`).toContain(command);
      return { command, ...parseFlags(command, m[2].trim().split(/\s+/), FLAGS[command]) };
    });
}

function only(list: Invocation[], command: string): Invocation {
  const found = list.filter((i) => i.command === command);
  expect(found, `one '${command}'`).toHaveLength(1);
  return found[0];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('the CI workflow and the Kubernetes job run the CLI as it is', () => {
  const workflow = parse(read('.github/workflows/bench.yml'));
  const k8s = parseAllDocuments(read('deploy/k8s/bench-job.yaml')).map((d) => d.toJS());

  it('GitHub: N matrix shards each sweep K/N into its own folder, and the merge takes exactly those N folders', () => {
    const shards: number[] = workflow.jobs.sweep.strategy.matrix.shard;
    const n = shards.length;
    expect(shards).toEqual(range(n));
    const sweepStep = workflow.jobs.sweep.steps.find((s: { run?: string }) => s.run?.includes('blameboard sweep'));
    const upload = workflow.jobs.sweep.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact'));
    for (const k of shards) {
      const run = only(invocations(sweepStep.run.replaceAll('${{ matrix.shard }}', String(k))), 'sweep');
      expect(parseShard(run.values.shard as string)).toEqual({ k, n });
      expect(existsSync(new URL(run.values.config as string, ROOT))).toBe(true);
      expect(run.values.out).toBe(`shards/shard-${k}`);
      expect(upload.with.path.replaceAll('${{ matrix.shard }}', String(k))).toBe(run.values.out);
      expect(upload.with.name.replaceAll('${{ matrix.shard }}', String(k))).toBe(`shard-${k}`);
    }
    const steps = workflow.jobs.merge.steps;
    const download = steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/download-artifact'));
    expect(download.with.path).toBe('shards');
    const all = invocations(steps.map((s: { run?: string }) => s.run ?? '').join('\n'));
    const merge = only(all, 'merge');
    expect(merge.positionals).toEqual(range(n).map((k) => `${download.with.path}/shard-${k}`));
    const report = only(all, 'report');
    expect(report.positionals).toEqual([merge.values.out]);
    expect(steps.some((s: { run?: string }) => s.run === `cat ${report.values.out}/leaderboard.md >> "$GITHUB_STEP_SUMMARY"`)).toBe(true);
    expect(steps.at(-1).with.path).toBe(report.values.out);
    expect(workflow.jobs.merge.needs).toBe('sweep');
  });

  it('Kubernetes: an Indexed Job of N completions whose pods sweep their shard into the shared volume, then one merge of the N folders', () => {
    const jobs = k8s.filter((d) => d.kind === 'Job');
    const sweepJob = jobs.find((j) => j.metadata.name === 'blameboard-bench-sweep');
    const mergeJob = jobs.find((j) => j.metadata.name === 'blameboard-bench-merge');
    const n: number = sweepJob.spec.completions;
    expect(sweepJob.spec.completionMode).toBe('Indexed');
    expect(sweepJob.spec.parallelism).toBe(n);
    const container = sweepJob.spec.template.spec.containers[0];
    const count = container.env.find((e: { name: string }) => e.name === 'JOB_COMPLETION_COUNT').value;
    expect(Number(count)).toBe(n);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'results').mountPath;
    for (let index = 0; index < n; index++) {
      // The shard comes from the Job's environment, as a pod sees it.
      expect(parseShard(undefined, { JOB_COMPLETION_INDEX: String(index), JOB_COMPLETION_COUNT: count })).toEqual({ k: index + 1, n });
      const script = container.args.join(' ').replaceAll('$((JOB_COMPLETION_INDEX + 1))', String(index + 1));
      const run = only(invocations(script), 'sweep');
      expect(run.values.shard).toBeUndefined();
      expect(existsSync(new URL(run.values.config as string, ROOT))).toBe(true);
      expect(run.values.out).toBe(`${mount}/shard-${index + 1}`);
    }
    const mergeContainer = mergeJob.spec.template.spec.containers[0];
    const script = mergeContainer.args.join(' ');
    const all = invocations(script);
    const merge = only(all, 'merge');
    const folders = range(n).map((k) => `${mount}/shard-${k}`);
    expect(merge.positionals).toEqual(folders);
    for (const f of folders) expect(script).toContain(`[ -f ${f}/run.json ]`);
    expect(only(all, 'report').positionals).toEqual([merge.values.out]);
    const claim = k8s.find((d) => d.kind === 'PersistentVolumeClaim');
    for (const job of [sweepJob, mergeJob]) {
      expect(job.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'results').persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    }
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it('both spread the same sweep over the same number of shards', () => {
    const sweepJob = k8s.find((d) => d.kind === 'Job' && d.metadata.name === 'blameboard-bench-sweep');
    expect(sweepJob.spec.completions).toBe(workflow.jobs.sweep.strategy.matrix.shard.length);
  });
});
