/**
 * The ImageNet-scale part of `pnpm perf` (issue "Bring your own model", point 6): resnet50 and
 * efficientnet_b0 at 224×224 with seeded random weights built at run time, batch 16.
 * - in process: forward, gradient, IG-32 and LRP EpsilonPlus, each against its own model's
 *   forward pass of the same 16 inputs (one warm-up run that also compiles, then timed runs);
 * - whole `blameboard explain` processes on the model written to a scratch folder: wall time
 *   with an empty compile cache (cold) and with the cache the cold run left (warm), and each
 *   process's own peak RSS (VmHWM, through peak-rss-hook.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { disposeSessions, float32, isBlameboardError, logitSession, Rng, saveNpy, type LoadedModel, type Tensor } from '@blameboard/core';
import { explain } from '@blameboard/methods';
import { imagenetModel, imagenetOnnx } from '@blameboard/models';
import { parallelAB, printParallel, type ParallelFigure } from './parallel.js';

export const IMAGENET_MODELS = ['resnet50', 'efficientnet_b0', 'mobilenet_v2'] as const;
export const IMAGENET_BATCH = 16;

const METHODS: { task: string; method: string; params: Record<string, unknown> }[] = [
  { task: 'gradient', method: 'gradient', params: {} },
  { task: 'integrated-gradients (32 steps)', method: 'integrated-gradients', params: { steps: 32 } },
  { task: 'lrp epsilon-plus', method: 'lrp', params: { composite: 'epsilon-plus' } },
];

export interface TaskFigure {
  model: string;
  task: string;
  /** Mean and fastest of the timed runs, ms; null when the method refused the model. */
  ms: number | null;
  minMs: number | null;
  ratioToForward: number | null;
  /** Why there is no figure (e.g. a rule the compiler lacks). */
  refused?: string;
}

export interface ProcessFigure {
  model: string;
  method: string;
  /** cold: empty compile cache; warm: the cache the cold run left. */
  pass: 'cold' | 'warm';
  wallMs: number | null;
  peakRssBytes: number | null;
  refused?: string;
}

export interface ImagenetReport {
  batch: number;
  iterations: number;
  /** Cold/warm process pairs per method; the fastest of each kind is reported. */
  repeats: number;
  memory: string;
  tasks: TaskFigure[];
  processes: ProcessFigure[];
  parallel: ParallelFigure[];
  parallelRounds: number;
}

function inputsFor(model: LoadedModel): { inputs: Tensor; targets: Int32Array } {
  const n = IMAGENET_BATCH;
  const inputs = float32([n, ...model.inputShape], new Rng(20240).fillUniform(new Float32Array(n * 3 * 224 * 224)));
  return { inputs, targets: Int32Array.from({ length: n }, (_, i) => (i * 61) % model.outputSize) };
}

async function timed(run: () => Promise<unknown>, iterations: number, warmups = 1): Promise<{ mean: number; min: number }> {
  for (let w = 0; w < warmups; w++) await run(); // compiles, opens the session, grows onnxruntime's arena, measures the run mode
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, min: Math.min(...times) };
}

/** In-process figures for one model. */
async function inProcess(id: string, iterations: number, parallelRounds: number, parallel: ParallelFigure[], log: (line: string) => void): Promise<TaskFigure[]> {
  const model = await imagenetModel(id);
  parallel.push(...(await parallelAB(id, model, IMAGENET_BATCH, parallelRounds, log)));
  await disposeSessions();
  const { inputs, targets } = inputsFor(model);
  const session = await logitSession(model);
  const feed = { [session.inputNames[0]]: inputs };
  // The forward pass is timed again right before each method, and each ratio uses that figure:
  // on a shared machine the load drifts over the minutes a model's tasks take.
  const forwards: number[] = [];
  const rows: TaskFigure[] = [];
  for (const m of METHODS) {
    const forward = await timed(() => session.run(feed), 5);
    forwards.push(forward.mean);
    const run = () => explain({ model, inputs, targets, method: m.method, params: m.params, batchSize: IMAGENET_BATCH });
    try {
      // One-run methods settle with 3 runs: a split first run and steady runs of both modes
      // (ParallelSession); IG runs many, so its one warm-up measures it.
      const t = await timed(run, m.method === 'integrated-gradients' ? 1 : iterations, m.method === 'integrated-gradients' ? 1 : 5);
      rows.push({ model: id, task: m.task, ms: t.mean, minMs: t.min, ratioToForward: t.mean / forward.mean });
      log(`  ${id} ${m.task}: ${t.mean.toFixed(0)} ms (forward just before: ${forward.mean.toFixed(0)} ms)`);
    } catch (e) {
      if (!isBlameboardError(e)) throw e;
      rows.push({ model: id, task: m.task, ms: null, minMs: null, ratioToForward: null, refused: e.message });
      log(`  ${id} ${m.task}: refused (${e.message.slice(0, 120)})`);
    }
  }
  await disposeSessions();
  const forward = forwards.reduce((a, b) => a + b, 0) / forwards.length;
  return [{ model: id, task: 'forward', ms: forward, minMs: Math.min(...forwards), ratioToForward: 1 }, ...rows];
}

/** Whole CLI processes for one model: cold and warm compile cache, peak RSS. */
function processes(id: string, memory: string | undefined, repeats: number, log: (line: string) => void): ProcessFigure[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-perf-imagenet-'));
  try {
    const modelPath = path.join(dir, `${id}.onnx`);
    writeFileSync(modelPath, imagenetOnnx(id));
    const x = float32([IMAGENET_BATCH, 3, 224, 224], new Rng(20240).fillUniform(new Float32Array(IMAGENET_BATCH * 3 * 224 * 224)));
    saveNpy(path.join(dir, 'x.npy'), x);
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const hook = fileURLToPath(new URL('./peak-rss-hook.mjs', import.meta.url));
    let cache = path.join(dir, 'cache');
    const run = (method: string, params: Record<string, unknown>, pass: 'cold' | 'warm'): ProcessFigure => {
      const rssFile = path.join(dir, 'peak-rss');
      rmSync(rssFile, { force: true });
      const args = [
        '--import', hook, cli, 'explain', '--model', modelPath, '--inputs', path.join(dir, 'x.npy'), '--targets', '7',
        '--method', method, '--params', JSON.stringify(params), '--out', path.join(dir, 'a.npy'),
        ...(memory ? ['--memory', memory] : []),
      ];
      const t = performance.now();
      const child = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, BLAMEBOARD_CACHE_DIR: cache, BB_PEAK_RSS_FILE: rssFile } });
      const wallMs = performance.now() - t;
      const peak = Number(readFileSync(rssFile, 'utf8'));
      const label = `${method}${params.composite ? ` ${String(params.composite)}` : ''}${params.steps ? ` (${String(params.steps)} steps)` : ''}`;
      if (child.status !== 0) {
        const refused = child.stderr.trim().split('\n')[0];
        if (child.status !== 2) throw new Error(`${id} ${label}: exit ${child.status}: ${child.stderr}`);
        log(`  ${id} ${label} (${pass} process): refused (${refused.slice(0, 120)})`);
        return { model: id, method: label, pass, wallMs: null, peakRssBytes: peak, refused };
      }
      log(`  ${id} ${label} (${pass} process): ${(wallMs / 1000).toFixed(2)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
      return { model: id, method: label, pass, wallMs, peakRssBytes: peak };
    };
    // Cold and warm in pairs, `repeats` times (a fresh cache folder for every cold run); the
    // fastest of each is kept, with the highest peak.
    const pair = (method: string, params: Record<string, unknown>): ProcessFigure[] => {
      const cold: ProcessFigure[] = [];
      const warm: ProcessFigure[] = [];
      for (let r = 0; r < repeats; r++) {
        cache = path.join(dir, `cache-${method}-${r}`);
        cold.push(run(method, params, 'cold'));
        warm.push(run(method, params, 'warm'));
      }
      return [fastest(cold), fastest(warm)];
    };
    const out = pair('gradient', {});
    // The gradient's graph, compiled above; 8 steps beside 32 shows the peak does not grow with steps.
    out.push(run('integrated-gradients', { steps: 8 }, 'warm'), run('integrated-gradients', { steps: 32 }, 'warm'));
    out.push(...pair('lrp', { composite: 'epsilon-plus' }));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fastest(runs: ProcessFigure[]): ProcessFigure {
  const done = runs.filter((r) => r.wallMs !== null);
  if (done.length === 0) return runs[0];
  const best = done.reduce((a, b) => (b.wallMs! < a.wallMs! ? b : a));
  return { ...best, peakRssBytes: Math.max(...done.map((r) => r.peakRssBytes ?? 0)) };
}

export async function imagenetPerf(opts: { iterations: number; repeats: number; parallelRounds: number; memory?: string; log: (line: string) => void }): Promise<ImagenetReport> {
  const tasks: TaskFigure[] = [];
  const procs: ProcessFigure[] = [];
  const parallel: ParallelFigure[] = [];
  for (const id of IMAGENET_MODELS) {
    opts.log(`perf: ${id}, 224×224, batch ${IMAGENET_BATCH} …`);
    tasks.push(...(await inProcess(id, opts.iterations, opts.parallelRounds, parallel, opts.log)));
    procs.push(...processes(id, opts.memory, opts.repeats, opts.log));
  }
  return {
    batch: IMAGENET_BATCH,
    iterations: opts.iterations,
    repeats: opts.repeats,
    memory: opts.memory ?? 'default (BLAMEBOARD_MEMORY, else half the machine)',
    tasks,
    processes: procs,
    parallel,
    parallelRounds: opts.parallelRounds,
  };
}

export function printImagenet(r: ImagenetReport): void {
  printParallel(r.parallel, r.parallelRounds);
  console.log(`\nImageNet scale: 224×224, batch ${r.batch}, in process (mean of ${r.iterations} runs after a warm-up; IG one run; each ratio to the forward pass timed just before it)`);
  console.log('model'.padEnd(18) + 'task'.padEnd(34) + 'ms'.padStart(10) + '× forward'.padStart(12));
  for (const t of r.tasks) {
    const ms = t.ms === null ? 'refused' : t.ms.toFixed(0);
    const ratio = t.ratioToForward === null ? '' : t.ratioToForward.toFixed(2);
    console.log(t.model.padEnd(18) + t.task.padEnd(34) + ms.padStart(10) + ratio.padStart(12) + (t.refused ? `  (${t.refused.slice(0, 80)}…)` : ''));
  }
  console.log(`\nwhole \`blameboard explain\` processes, 16 inputs, --memory ${r.memory}; cold/warm: fastest of ${r.repeats} pairs, highest peak`);
  console.log('model'.padEnd(18) + 'method'.padEnd(34) + 'cache'.padEnd(7) + 's'.padStart(8) + 'peak RSS MiB'.padStart(14));
  for (const p of r.processes) {
    const s = p.wallMs === null ? 'refused' : (p.wallMs / 1000).toFixed(2);
    const rss = p.peakRssBytes === null ? '' : (p.peakRssBytes / 2 ** 20).toFixed(0);
    console.log(p.model.padEnd(18) + p.method.padEnd(34) + p.pass.padEnd(7) + s.padStart(8) + rss.padStart(14));
  }
}
