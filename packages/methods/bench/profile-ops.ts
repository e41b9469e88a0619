/**
 * Per-operator kernel times of the compiled graphs on the zoo mnist-cnn, batch 256, from
 * onnxruntime's own profiler (the fastest of `RUNS` runs per op, so other processes on the box
 * matter less). Shows what bounds each graph (docs/decisions.md, "Performance of compiled graphs").
 *   cd packages/methods && npx tsx bench/profile-ops.ts [threads] [top]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileExplanation, foldBatchNorm, loadOnnxFile, writeOnnx, type IrGraph } from '@blameboard/core';
import { oneHot } from '../src/compiled.js';
import { ruleParams } from '../src/methods/lrp-explain.js';
import { deepLiftRules } from '../src/rules/deeplift.js';
import { gradientRules } from '../src/rules/gradient/index.js';
import { compositeMap } from '../src/rules/lrp/composites.js';
import { lrpRuleSet } from '../src/rules/lrp/ruleset.js';

/** The part of onnxruntime-node used here; loaded through core's dependency (this package has none). */
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<{
      inputNames: readonly string[];
      run(feeds: Record<string, unknown>): Promise<unknown>;
      endProfiling(): void;
      release(): Promise<void>;
    }>;
  };
}
const ort = createRequire(fileURLToPath(new URL('../../core/package.json', import.meta.url)))('onnxruntime-node') as Ort;

const threads = Number(process.argv[2] ?? 2);
const top = Number(process.argv[3] ?? 12);
const RUNS = 30;
const N = 256;
const model = loadOnnxFile(fileURLToPath(new URL('../../models/zoo/mnist-cnn.onnx', import.meta.url)));
const x = Float32Array.from({ length: N * 784 }, (_, i) => Math.max(0, Math.sin(i * 0.37)));
const seed = oneHot(Int32Array.from({ length: N }, (_, i) => i % 10), 10).data as Float32Array;

async function profile(label: string, graph: IrGraph, inputs: Float32Array[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bb-prof-'));
  const session = await ort.InferenceSession.create(writeOnnx(graph), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: join(dir, 'p'),
  });
  const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, new ort.Tensor('float32', inputs[i], inputs[i].length === N * 10 ? [N, 10] : [N, 1, 28, 28])]));
  for (let r = 0; r < RUNS; r++) await session.run(feeds);
  session.endProfiling();
  const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  await session.release();
  rmSync(dir, { recursive: true });
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000);
  const best = Math.min(...runs.slice(3));
  const perOp = new Map<string, { op: string; times: number[] }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const key = e.name.slice(0, -'_kernel_time'.length);
    const entry = perOp.get(key) ?? { op: e.args?.op_name ?? '?', times: [] };
    entry.times.push(e.dur / 1000);
    perOp.set(key, entry);
  }
  console.log(`\n${label}: fastest run ${best.toFixed(2)} ms (${threads} thread${threads > 1 ? 's' : ''})`);
  const rows = [...perOp].map(([name, { op, times }]) => ({ name, op, ms: Math.min(...times) })).sort((a, b) => b.ms - a.ms);
  for (const r of rows.slice(0, top)) console.log(`  ${r.ms.toFixed(3).padStart(7)} ms  ${r.op.padEnd(16)} ${r.name}`);
  return best;
}

const lrp = lrpRuleSet({
  composite: compositeMap('epsilon-gamma-box'),
  params: ruleParams({}, { low: 0, high: 1 }),
  layerRules: [],
  stabilizer: 1e-6,
  bias: 'absorb',
  maxpool: 'winner-take-all',
  gates: 'constant',
  inputNonNegative: true,
});
const forward = await profile('forward', model, [x]);
const ratio = (t: number) => console.log(`  = ${(t / forward).toFixed(2)}× forward`);
ratio(await profile('gradient', compileExplanation(model, gradientRules(), { start: 'seed-input' }).graph, [x, seed]));
ratio(await profile('deeplift', compileExplanation(model, deepLiftRules(), { start: 'seed-input', withBaseline: true }).graph, [x, seed, new Float32Array(N * 784)]));
ratio(await profile('lrp epsilon-gamma-box', compileExplanation(foldBatchNorm(model), lrp, { start: 'seed-times-output' }).graph, [x, seed]));
