/**
 * `pnpm perf`: times every method (and selectivity) on mnist-cnn with a batch of 256, as ratios
 * to onnxruntime's forward pass of the same batch measured in the same run (SPEC §8); then
 * resnet50 and efficientnet_b0 at 224×224, batch 16 (bench/imagenet.ts): forward, gradient,
 * IG-32 and LRP EpsilonPlus against their own forward pass, and whole `blameboard explain`
 * processes with a cold and a warm compile cache, with their peak RSS.
 * `--json [file]` writes the figures; `--no-imagenet` / `--imagenet-only` pick a part;
 * `--memory SIZE` is passed to the ImageNet processes; `--startup` times only CLI start to the
 * first onnxruntime run (a zoo model, warm compile cache); `--compare` runs only the whole-process race
 * against PyTorch instead (bench/compare.ts: `--only`, `--repeats`, `--threads`, `--python`); PERF_ITERATIONS (5) and
 * PERF_IMAGENET_ITERATIONS (2) set the timed runs, PERF_PROCESS_REPEATS (2) the cold/warm process pairs. IG's peak memory on mnist-cnn is measured in
 * child processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { forward, disposeSessions, logitSession } from '@blameboard/core';
import { loadDataset } from '@blameboard/datasets';
import { explain, useCompileCache } from '@blameboard/methods';
import { defaultPatch, evaluate, regionGrid, stageCounts } from '@blameboard/metrics';
import { resolveModel } from '@blameboard/models';
import { compare, printCompare, torchAvailable } from './compare.js';
import { imagenetPerf, printImagenet, type ImagenetReport } from './imagenet.js';
import { parallelAB, printParallel } from './parallel.js';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? (args[jsonAt + 1] && !args[jsonAt + 1].startsWith('--') ? args[jsonAt + 1] : '-') : null;
const iterations = Number(process.env.PERF_ITERATIONS ?? 5);
const BATCH = 256;
const imagenetOnly = args.includes('--imagenet-only');
const withImagenet = !args.includes('--no-imagenet');
const memoryAt = args.indexOf('--memory');
const memory = memoryAt >= 0 ? args[memoryAt + 1] : undefined;
const imagenetIterations = Number(process.env.PERF_IMAGENET_ITERATIONS ?? 2);
const processRepeats = Number(process.env.PERF_PROCESS_REPEATS ?? 2);
const parallelRounds = Number(process.env.PERF_PARALLEL_ROUNDS ?? 10);
// The methods run as the CLI runs them: with a compile cache (a scratch folder), so each compiled
// graph's run mode — one session or worker sessions — is measured and then used, as it would be.
const scratchCache = mkdtempSync(path.join(os.tmpdir(), 'bb-perf-cache-'));
useCompileCache(scratchCache);
process.on('exit', () => rmSync(scratchCache, { recursive: true, force: true }));

async function mnistPerf(): Promise<Record<string, unknown>> {
  const model = await resolveModel('mnist-cnn');
  const ds = await loadDataset('mnist', { split: 'test', count: BATCH, seed: 0, layout: 'nchw' });
  const inputs = ds.inputs;
  const logits = await forward(model, inputs);
  const targets = new Int32Array(BATCH).map((_, i) => {
    let best = 0;
    for (let j = 1; j < 10; j++) if (logits.data[i * 10 + j] > logits.data[i * 10 + best]) best = j;
    return best;
  });
  const data = { mean: ds.mean, range: ds.range };

  const cases: { name: string; method?: string; params?: Record<string, unknown> }[] = [
    { name: 'gradient', method: 'gradient' },
    { name: 'gradient-x-input', method: 'gradient-x-input' },
    { name: 'integrated-gradients (32 steps)', method: 'integrated-gradients', params: { steps: 32 } },
    { name: 'smoothgrad (16 samples)', method: 'smoothgrad', params: { samples: 16 } },
    { name: 'deeplift', method: 'deeplift' },
    { name: 'lrp epsilon-gamma-box', method: 'lrp', params: { composite: 'epsilon-gamma-box' } },
    { name: 'lrp epsilon', method: 'lrp', params: { composite: 'epsilon' } },
    { name: 'deep-taylor', method: 'deep-taylor' },
    { name: 'blame', method: 'blame' },
    { name: 'occlusion', method: 'occlusion' },
    { name: 'uniform', method: 'uniform' },
    { name: 'random', method: 'random' },
  ];

  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  // Right after another onnxruntime session has run, the next ~10 runs of any session are slower
  // (the previous pool's worker keeps spinning; measured ≈ 35 ms in all): a one-off that belongs
  // to no task. Every task therefore settles with untimed runs of its own before it is timed.
  const forwardSession = await logitSession(model);
  const forwardFeed = { [forwardSession.inputNames[0]]: inputs };
  bench.add('forward', async () => {
    await forwardSession.run(forwardFeed);
  }, { beforeAll: async () => { for (let s = 0; s < 16; s++) await forwardSession.run(forwardFeed); } });
  for (const c of cases) {
    const run = () => explain({ model, inputs, targets, method: c.method!, params: c.params, data, batchSize: BATCH });
    // Settling also lets each compiled graph measure its run mode (a split first run, then two
    // steady runs of each mode) before it is timed.
    bench.add(c.name, async () => {
      await run();
    }, { beforeAll: async () => { for (let s = 0; s < 6; s++) await run(); } });
  }
  // Selectivity's bare forward passes: exactly the distinct inputs it must run (SPEC §4), counted
  // here from the definition rather than from its implementation. Stages k = 0…L of both orders
  // are 2(L+1) = 66, but two pairs are provably the same input: stage 0 (x itself) of MoRF and
  // LeRF, and the last stage (every region filled) of both when fraction = 1. Within one order,
  // stages with equal n_k would repeat too (not for 49 regions over 32 steps: n_k grows by ≥ 1).
  // mnist 28×28 in 4×4 patches: 49 regions, 31 partial stages per order → 1 + 2·31 + 1 = 64 runs
  // of 256 rows, the same rows per onnxruntime run as selectivity's scorer (batchSize 256).
  const STEPS = 32;
  const regionCount = regionGrid(inputs.shape.slice(1), defaultPatch(inputs.shape.slice(1))).count;
  const partialStages = new Set(Array.from(stageCounts(regionCount, STEPS, 1)).filter((c) => c > 0 && c < regionCount)).size;
  const selectivityRuns = 1 + 2 * partialStages + 1;
  const bareName = `selectivity bare forwards (${selectivityRuns} × 256)`;
  // Both run on the session selectivity itself uses (the model's cached logit session), settled
  // like every other task.
  const stageSession = forwardSession;
  const stageBatch = { [stageSession.inputNames[0]]: inputs }; // same shape as every perturbed stage batch
  const settle = { beforeAll: async () => { for (let s = 0; s < 16; s++) await stageSession.run(stageBatch); } };
  bench.add(bareName, async () => {
    for (let s = 0; s < selectivityRuns; s++) await stageSession.run(stageBatch);
  }, settle);
  const gxi = await explain({ model, inputs, targets, method: 'gradient-x-input', data, batchSize: BATCH });
  bench.add('selectivity (32 steps)', async () => {
    await evaluate({ model, inputs, targets, metric: 'selectivity', params: { steps: STEPS }, attributions: gxi.attributions, data, seed: 0 });
  }, settle);

  process.stderr.write(`perf: mnist-cnn, batch ${BATCH}, ${iterations} iterations per task …\n`);
  await bench.run();

  const ms = (name: string) => {
    const t = bench.tasks.find((x) => x.name === name)!;
    const r = t.result as { latency?: { mean: number }; error?: Error };
    if (!r.latency) throw new Error(`${name}: ${r.error?.message ?? 'no result'}`);
    return r.latency.mean;
  };
  const fwd = ms('forward');
  const rows = bench.tasks.map((t) => ({ task: t.name, ms: ms(t.name), ratioToForward: ms(t.name) / fwd }));

  function peakRss(steps: number): number {
    const script = fileURLToPath(new URL('./ig-memory.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, String(steps)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`ig-memory ${steps}: ${child.stderr}`);
    return Number(child.stdout.trim());
  }
  // The median of three processes: about one process in six peaks ≈ 45 MiB higher at 128 steps,
  // in builds before and after the pipelined row runner alike (when V8 collects), which alone
  // crossed the 1.3 limit; all three are printed.
  const IG_RSS_PROCESSES = 3;
  const rssRuns = (steps: number) => Array.from({ length: IG_RSS_PROCESSES }, () => peakRss(steps)).sort((a, b) => a - b);
  const runs8 = rssRuns(8);
  const runs128 = rssRuns(128);
  const rss8 = runs8[1];
  const rss128 = runs128[1];

  const grad = ms('gradient');
  const parallel = await parallelAB('mnist-cnn', model, BATCH, parallelRounds, (line) => process.stderr.write(`${line}\n`));
  const targetsCheck = [
    { target: 'gradient ≤ 2.5× forward (SPEC §8)', value: grad / fwd, limit: 2.5 },
    { target: 'gradient ≤ 3× forward (issue 10)', value: grad / fwd, limit: 3 },
    { target: 'lrp epsilon-gamma-box ≤ 3× forward', value: ms('lrp epsilon-gamma-box') / fwd, limit: 3 },
    { target: 'IG 32 steps ≤ 1.1 × 32 × gradient', value: ms('integrated-gradients (32 steps)') / (32 * grad), limit: 1.1 },
    { target: 'selectivity ≤ 1.2 × its bare forwards', value: ms('selectivity (32 steps)') / ms(bareName), limit: 1.2 },
    { target: 'IG peak RSS 128 steps ≤ 1.3 × 8 steps', value: rss128 / rss8, limit: 1.3 },
  ];

  console.log('task'.padEnd(40) + 'ms'.padStart(10) + '× forward'.padStart(12));
  for (const r of rows) console.log(r.task.padEnd(40) + r.ms.toFixed(1).padStart(10) + r.ratioToForward.toFixed(2).padStart(12));
  const mib = (runs: number[]) => runs.map((b) => (b / 2 ** 20).toFixed(0)).join(', ');
  console.log(`\nIG peak RSS, median of ${IG_RSS_PROCESSES} processes: ${(rss8 / 2 ** 20).toFixed(0)} MiB at 8 steps (${mib(runs8)}), ${(rss128 / 2 ** 20).toFixed(0)} MiB at 128 steps (${mib(runs128)})`);
  printParallel(parallel, parallelRounds);
  console.log('\ntarget'.padEnd(41) + 'measured'.padStart(10) + 'limit'.padStart(8));
  for (const t of targetsCheck) {
    console.log(t.target.padEnd(40) + t.value.toFixed(3).padStart(10) + String(t.limit).padStart(8) + (t.value <= t.limit ? '  ok' : '  MISSED'));
  }

  return {
    model: 'mnist-cnn',
    batch: BATCH,
    iterations,
    tasks: rows,
    igPeakRss: { steps8: rss8, steps128: rss128 },
    parallel,
    targets: targetsCheck.map((t) => ({ ...t, met: t.value <= t.limit })),
  };
}

const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const report: Record<string, unknown> = { node: process.version };
if (args.includes('--startup')) {
  // CLI start → first onnxruntime run (issue 10: ≤ 0.3 s for a zoo model on a warm cache).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-perf-startup-'));
  const x = path.join(dir, 'x.npy');
  const ds = await loadDataset('mnist', { split: 'test', count: 16, seed: 0, layout: 'nchw' });
  const { saveNpy } = await import('@blameboard/core');
  saveNpy(x, ds.inputs);
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const hook = fileURLToPath(new URL('./first-run-hook.mjs', import.meta.url));
  const times: number[] = [];
  const runs = Number(flag('--runs') ?? 10);
  for (let r = 0; r <= runs; r++) {
    const child = spawnSync(process.execPath, ['--import', hook, cli, 'explain', '--model', 'mnist-cnn', '--inputs', x, '--targets', '7', '--method', 'gradient', '--out', path.join(dir, 'a.npy')], {
      encoding: 'utf8',
      env: { ...process.env, BLAMEBOARD_CACHE_DIR: path.join(dir, 'cache') },
    });
    const m = /first onnxruntime run at (\d+) ms/.exec(child.stderr);
    if (child.status !== 0 || !m) throw new Error(`startup run failed: ${child.stderr}`);
    if (r > 0) times.push(Number(m[1])); // run 0 fills the compile cache
  }
  rmSync(dir, { recursive: true, force: true });
  times.sort((a, b) => a - b);
  console.log(`CLI start → first onnxruntime run, mnist-cnn gradient, warm cache, ${runs} processes: fastest ${times[0]} ms, median ${times[times.length >> 1]} ms, slowest ${times[times.length - 1]} ms (target ≤ 300 ms)`);
  process.exit(0);
}
if (args.includes('--compare')) {
  const python = flag('--python') ?? '/usr/bin/python3';
  if (!torchAvailable(python)) process.exit(1);
  const repeats = Number(flag('--repeats') ?? 2);
  const figures = await compare({
    only: flag('--only')?.split(','),
    repeats,
    threads: Number(flag('--threads') ?? 2),
    python,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  printCompare(figures, repeats);
  if (jsonOut === '-') console.log(JSON.stringify(figures, null, 2));
  else if (jsonOut) writeFileSync(jsonOut, JSON.stringify(figures, null, 2) + '\n');
  process.exit(0);
}
if (!imagenetOnly) Object.assign(report, await mnistPerf());
await disposeSessions();
if (withImagenet) {
  const imagenet: ImagenetReport = await imagenetPerf({ iterations: imagenetIterations, repeats: processRepeats, parallelRounds: Math.max(2, Math.round(parallelRounds / 3)), memory, log: (line) => process.stderr.write(`${line}\n`) });
  printImagenet(imagenet);
  report.imagenet = imagenet;
}
if (jsonOut === '-') console.log(JSON.stringify(report, null, 2));
else if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2) + '\n');
await disposeSessions();
