import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions } from '@blameboard/core';
import type { ResultsDocument } from '@blameboard/reports';
import { runCli, writeOverflowModel } from '../test-utils.js';
import { LOCK_STALE_MS } from './store.js';

afterAll(() => disposeSessions());

const RUNNER_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Cells of mnist-mlp on 8 test digits: a dozen cells, a second or two in all. */
const CONFIG = {
  name: 'test sweep',
  seed: 3,
  samples: 8,
  models: ['mnist-mlp'],
  methods: [
    { method: 'gradient', params: { abs: [false, true] } },
    { method: 'gradient-x-input' },
    { method: 'integrated-gradients', params: { steps: [4, 8] } },
    { method: 'lrp', label: 'lrp epsilon', params: { composite: 'epsilon', epsilon: [1e-6, 0.01, 0.1, 1] } },
    { method: 'occlusion', params: { window: 7 } },
    { method: 'uniform' },
    { method: 'edge' },
  ],
  metrics: [
    { metric: 'selectivity', params: { steps: 4, fill: ['uniform', 'zero'] } },
    { metric: 'conservation' },
    { metric: 'implementation-invariance' },
    { metric: 'sparseness' },
  ],
};
const CELLS = 12;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'bb-sweep-'));
}

function writeConfig(dir: string, config: unknown = CONFIG): string {
  const file = join(dir, 'sweep.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** results.json without what a run measures (environment, timings, memory): the part that must be reproducible. */
function comparable(dir: string): string {
  const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as ResultsDocument;
  const stripped = { ...doc, runs: [], cells: doc.cells.map((c) => ({ ...c, cost: null })) };
  return JSON.stringify(stripped);
}

function mtimes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const sub of ['cache/cells', 'cache/metrics', 'cache/attributions']) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) out.set(`${sub}/${f}`, statSync(join(d, f)).mtimeMs);
  }
  return out;
}

let wholeRun: { dir: string; config: string } | undefined;

/** One uninterrupted, unsharded run that the other tests compare against. */
async function whole(): Promise<{ dir: string; config: string }> {
  if (wholeRun) return wholeRun;
  const base = scratch();
  const config = writeConfig(base);
  const dir = join(base, 'out');
  const run = await runCli('sweep', '--config', config, '--out', dir);
  expect(run.stderr).toContain(`[${CELLS}/${CELLS}]`);
  expect(run.code).toBe(0);
  wholeRun = { dir, config };
  return wholeRun;
}

describe('blameboard sweep', () => {
  it('computes every cell, writes every report, and prints the Markdown leaderboard', async () => {
    const { dir } = await whole();
    for (const f of ['results.json', 'samples.ndjson', 'leaderboard.md', 'leaderboard.csv', 'index.html', 'sweep.json']) expect(existsSync(join(dir, f)), f).toBe(true);
    const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.cells).toHaveLength(CELLS);
    expect(doc.cells.every((c) => c.status === 'ok')).toBe(true);
    const board = doc.leaderboards[0];
    expect(board.model).toBe('mnist-mlp');
    expect(board.headline).toBe('selectivity[fill=uniform].abpc');
    // The twin of mnist-mlp scores implementation invariance: gradients of equal functions agree.
    const grad = doc.cells.find((c) => c.label === 'gradient abs=false')!;
    const ii = grad.metrics.find((m) => m.config === 'implementation-invariance')!;
    expect(ii.status).toBe('ok');
    expect(ii.values.relativeL1.mean!).toBeLessThan(1e-3);
    // Every row has a CI and a rank interval on the headline; cost was measured.
    for (const row of board.rows) {
      expect(row.values[board.headline!].ci95).not.toBeNull();
      expect(row.rankInterval).not.toBeNull();
    }
    for (const c of doc.cells) expect(c.cost.explainMsPerSample).toBeGreaterThan(0);
    expect(board.best.map((b) => b.family)).toEqual(['gradient', 'integrated-gradients', 'lrp epsilon']);
    expect(readFileSync(join(dir, 'leaderboard.md'), 'utf8')).toContain('## mnist-mlp — mnist, 8 samples');
  });

  it('resumes an interrupted sweep (SIGINT) without recomputing a finished cell, ending equal to an uninterrupted run', async () => {
    const { dir: reference, config } = await whole();
    const dir = join(scratch(), 'out');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sweep', '--config', config, '--out', dir], { cwd: RUNNER_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let secondRunner: Awaited<ReturnType<typeof runCli>> | undefined;
    const code = await new Promise<number | null>((resolveExit) => {
      child.stderr.on('data', async (chunk: Buffer) => {
        const before = stderr;
        stderr += chunk.toString();
        if (!before.includes('[3/') && stderr.includes('[3/')) {
          // While it runs, a second runner on the same folder is refused.
          secondRunner = await runCli('sweep', '--config', config, '--out', dir, '--resume');
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolveExit(c));
    });
    expect(secondRunner!.code).toBe(2);
    expect(secondRunner!.stderr).toMatch(new RegExp(`is in use by another sweep \\(pid ${child.pid} on `));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/SIGINT: stopping after the current cell/);
    const finished = Number(/interrupted after (\d+) of 12 cells/.exec(stderr)?.[1]);
    expect(finished).toBeGreaterThanOrEqual(3);
    expect(finished).toBeLessThan(CELLS);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(existsSync(join(dir, 'results.json'))).toBe(false);

    const before = mtimes(dir);
    const refused = await runCli('sweep', '--config', config, '--out', dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already holds a sweep; pass --resume/);
    const resumed = await runCli('sweep', '--config', config, '--out', dir, '--resume');
    expect(resumed.code).toBe(0);
    expect(resumed.stderr.match(/ · cached \(/g)).toHaveLength(finished);
    const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.runs[0]).toMatchObject({ computedCells: CELLS - finished, cachedCells: finished });
    // No file written before the interruption was written again.
    for (const [file, mtime] of before) expect(statSync(join(dir, file)).mtimeMs, file).toBe(mtime);
    expect(comparable(dir)).toBe(comparable(reference));
  });

  it('splits into shards whose merge equals the whole run', async () => {
    const { dir: reference, config } = await whole();
    const base = scratch();
    const shards = [1, 2, 3].map((k) => join(base, `shard-${k}`));
    const owned: number[] = [];
    for (const [i, dir] of shards.entries()) {
      const run = await runCli('sweep', '--config', config, '--out', dir, '--shard', `${i + 1}/3`);
      expect(run.code, run.stderr).toBe(0);
      owned.push(Number(/shard \d\/3 runs (\d+)/.exec(run.stderr)?.[1]));
      expect(existsSync(join(dir, 'results.json'))).toBe(false);
    }
    expect(owned.reduce((s, n) => s + n, 0)).toBe(CELLS);
    expect(Math.min(...owned)).toBeGreaterThan(0);
    const merged = join(base, 'merged');
    const run = await runCli('merge', ...shards, '--out', merged);
    expect(run.code, run.stderr).toBe(0);
    expect(comparable(merged)).toBe(comparable(reference));
    const doc = JSON.parse(readFileSync(join(merged, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.runs.map((r) => r.shard)).toEqual(['1/3', '2/3', '3/3']);

    // Rendering the merged folder gives the reports of the whole run (numbers recomputed from samples.ndjson).
    const report = join(base, 'report');
    expect((await runCli('report', merged, '--out', report)).code).toBe(0);
    // report recomputes every number from samples.ndjson: the same results.json comes out.
    expect(readFileSync(join(report, 'results.json'), 'utf8')).toBe(readFileSync(join(merged, 'results.json'), 'utf8'));
    expect(readFileSync(join(report, 'index.html'), 'utf8')).toContain('<img alt="inputs" height="128" src="data:image/png;base64,');
  });

  it('refuses to merge shards of different configs, naming the difference', async () => {
    const base = scratch();
    const a = join(base, 'a');
    const b = join(base, 'b');
    expect((await runCli('sweep', '--config', writeConfig(base, { ...CONFIG, methods: CONFIG.methods.slice(0, 2) }), '--out', a, '--shard', '1/2')).code).toBe(0);
    const other = join(base, 'other');
    writeFileSync(join(base, 'other.json'), JSON.stringify({ ...CONFIG, samples: 6, methods: CONFIG.methods.slice(0, 2) }));
    expect((await runCli('sweep', '--config', join(base, 'other.json'), '--out', b, '--shard', '2/2')).code).toBe(0);
    const run = await runCli('merge', a, b, '--out', other);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is a shard of a different sweep than .*: its config differs at \/config\/samples: 8 vs 6/);
    expect(existsSync(other)).toBe(false);
    const incomplete = await runCli('merge', a, '--out', join(base, 'x'));
    expect(incomplete.code).toBe(2);
    expect(incomplete.stderr).toMatch(/the shards leave \d+ of 3 cells uncomputed/);
  });

  it('takes over a stale lock and refuses a live one', async () => {
    const base = scratch();
    const config = writeConfig(base, { ...CONFIG, methods: [{ method: 'uniform' }] });
    const dir = join(base, 'out');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    mkdirSync(dir);
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: dead.pid, host: hostname(), started: 'earlier' }));
    const run = await runCli('sweep', '--config', config, '--out', dir);
    expect(run.code, run.stderr).toBe(0);
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    const refused = await runCli('sweep', '--config', config, '--out', dir, '--resume');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`is in use by another sweep (pid ${process.pid} on ${hostname()}, started now)`);
    // A holder on another machine cannot be asked whether it lives: its lock counts while it is
    // touched, and is abandoned once untouched for longer than LOCK_STALE_MS.
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 1, host: 'another-pod', started: 'then' }));
    expect((await runCli('sweep', '--config', config, '--out', dir, '--resume')).stderr).toContain('(pid 1 on another-pod, started then)');
    const old = new Date(Date.now() - LOCK_STALE_MS - 60_000);
    utimesSync(join(dir, '.lock'), old, old);
    expect((await runCli('sweep', '--config', config, '--out', dir, '--resume')).code).toBe(0);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('marks a cell whose method produced NaN or Inf invalid, with its reason, and keeps it out of the ranks', async () => {
    const base = scratch();
    // IG from a baseline of 3e38 overflows float32 on this network; every other method stays finite.
    writeOverflowModel(base, 10);
    const xss = '<img src=x onerror=alert(1)>';
    const config = writeConfig(base, {
      samples: 10,
      models: [{ path: 'overflow.onnx', inputs: 'x.npy', name: xss }],
      methods: [{ method: 'integrated-gradients', params: { baseline: 3e38, steps: 4 } }, { method: 'gradient' }, { method: 'lrp', params: { composite: 'epsilon' } }, { method: 'uniform' }],
      metrics: [{ metric: 'selectivity', params: { steps: 3 } }, { metric: 'sparseness' }],
    });
    const dir = join(base, 'out');
    const run = await runCli('sweep', '--config', config, '--out', dir);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as ResultsDocument;
    const ig = doc.cells.find((c) => c.method === 'integrated-gradients')!;
    expect(ig.status).toBe('invalid');
    expect(ig.reason).toMatch(/^attributions hold \d+ Inf in 10 samples \(first: sample 0\)$/);
    expect(ig.metrics).toEqual([]);
    const row = doc.leaderboards[0].rows.find((r) => r.cell === ig.key)!;
    expect(row).toMatchObject({ values: {}, meanRank: null, headlineRank: null, rankInterval: null });
    expect(doc.leaderboards[0].rows.at(-1)!.cell).toBe(ig.key);
    const valid = doc.leaderboards[0].rows.filter((r) => r.status === 'ok');
    expect(valid).toHaveLength(3);
    // Ranks 1…3 among the valid rows only (ties share the average), never counting the invalid one.
    expect(valid.reduce((s, r) => s + r.values['selectivity.abpc'].rank, 0)).toBe(6);
    expect(run.stderr).toContain(`${xss} · integrated-gradients baseline=3e+38 steps=4: invalid (attributions hold`);
    const md = readFileSync(join(dir, 'leaderboard.md'), 'utf8');
    expect(md).toMatch(/\| — \| integrated-gradients baseline=3e\+38 steps=4 \|.*\*\*invalid\*\*: attributions hold/);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).not.toContain(xss);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
