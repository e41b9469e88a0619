/**
 * Per-operator kernel times of the compiled graphs on the zoo mnist-cnn, batch 256, from
 * onnxruntime's own profiler (the fastest of `RUNS` runs per op, so other processes on the box
 * matter less). Shows what bounds each graph (docs/decisions.md, "Performance of compiled graphs").
 *   cd packages/methods && npx tsx bench/profile-ops.ts [threads] [top] [model.onnx batch graphs composite]
 * (apps/runner/bench/profile-imagenet.ts runs it on the ImageNet models).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileExplanation, foldBatchNorm, loadOnnxFile, resolveParams, writeOnnx, type IrGraph } from '@blameboard/core';
import { oneHot } from '../src/compiled.js';
import { ruleParams } from '../src/methods/lrp-explain.js';
import { lrpParams } from '../src/methods/lrp.js';
import type { MaxPoolMode } from '../src/rules/lrp/maxpool.js';
import type { BiasMode, GateMode } from '../src/rules/lrp/ruleset.js';
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
const RUNS = 30;

/** Per-op profiles of a model's forward, gradient, DeepLIFT and LRP graphs at `batch` rows. */
export async function profileGraphs(model: IrGraph, opts: { batch: number; threads: number; top: number; runs?: number; lrpComposite?: string; only?: string[] }): Promise<Record<string, number>> {
  const { batch: n, threads, top } = opts;
  const runs = opts.runs ?? RUNS;
  const inputShape = model.inputs[0].shape.slice(1).map(Number);
  const per = inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * per }, (_, i) => Math.max(0, Math.sin(i * 0.37)));
  const outShape = model.outputs[0].shape;
  const classes = Number(outShape[outShape.length - 1]);
  const seed = oneHot(Int32Array.from({ length: n }, (_, i) => i % classes), classes).data as Float32Array;

  async function profile(label: string, graph: IrGraph, inputs: Float32Array[]): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), 'bb-prof-'));
    const session = await ort.InferenceSession.create(writeOnnx(graph), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableMemPattern: false,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'p'),
    });
    const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, new ort.Tensor('float32', inputs[i], inputs[i].length === n * classes ? [n, classes] : [n, ...inputShape])]));
    for (let r = 0; r < runs; r++) await session.run(feeds);
    session.endProfiling();
    const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    await session.release();
    rmSync(dir, { recursive: true });
    const times = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000);
    const best = Math.min(...times.slice(Math.min(3, times.length - 1)));
    const perOp = new Map<string, { op: string; times: number[] }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const key = e.name.slice(0, -'_kernel_time'.length);
      const entry = perOp.get(key) ?? { op: e.args?.op_name ?? '?', times: [] };
      entry.times.push(e.dur / 1000);
      perOp.set(key, entry);
    }
    console.log(`\n${label}: fastest run ${best.toFixed(2)} ms (${threads} thread${threads > 1 ? 's' : ''}, batch ${n})`);
    const rows = [...perOp].map(([name, { op, times: t }]) => ({ name, op, ms: Math.min(...t) })).sort((a, b) => b.ms - a.ms);
    const byOp = new Map<string, number>();
    for (const r of rows) byOp.set(r.op, (byOp.get(r.op) ?? 0) + r.ms);
    for (const r of rows.slice(0, top)) console.log(`  ${r.ms.toFixed(3).padStart(8)} ms  ${r.op.padEnd(16)} ${r.name}`);
    console.log(`  by operator: ${[...byOp].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([op, ms]) => `${op} ${ms.toFixed(2)}`).join(', ')}`);
    return best;
  }

  // LRP with the given composite and every other parameter at the spec's default, as `explain` runs it.
  const lrpConfig = resolveParams('lrp', lrpParams, opts.lrpComposite ? { composite: opts.lrpComposite } : {});
  const lrp = lrpRuleSet({
    composite: compositeMap(lrpConfig.composite as string),
    params: ruleParams(lrpConfig, { low: 0, high: 1 }),
    layerRules: [],
    stabilizer: lrpConfig.stabilizer as number,
    bias: lrpConfig.bias as BiasMode,
    maxpool: lrpConfig.maxpool as MaxPoolMode,
    gates: lrpConfig.gates as GateMode,
    inputNonNegative: true,
  });
  const want = (name: string) => !opts.only || opts.only.includes(name);
  const out: Record<string, number> = {};
  const forward = await profile('forward', model, [x]);
  out.forward = forward;
  const ratio = (name: string, t: number) => {
    out[name] = t;
    console.log(`  = ${(t / forward).toFixed(2)}× forward`);
  };
  if (want('gradient')) ratio('gradient', await profile('gradient', compileExplanation(model, gradientRules(), { start: 'seed-input' }).graph, [x, seed]));
  if (want('deeplift')) ratio('deeplift', await profile('deeplift', compileExplanation(model, deepLiftRules(), { start: 'seed-input', withBaseline: true }).graph, [x, seed, new Float32Array(n * per)]));
  if (want('lrp')) ratio('lrp', await profile(`lrp ${String(lrpConfig.composite)}`, compileExplanation(foldBatchNorm(model), lrp, { start: 'seed-times-output' }).graph, [x, seed]));
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // [threads] [top] [model.onnx] [batch] [graphs, e.g. gradient,lrp] [lrp composite]
  const [threads = '2', top = '12', onnx, batch, graphs, composite] = process.argv.slice(2);
  const model = loadOnnxFile(onnx ?? fileURLToPath(new URL('../../models/zoo/mnist-cnn.onnx', import.meta.url)));
  await profileGraphs(model, {
    batch: Number(batch ?? 256),
    threads: Number(threads),
    top: Number(top),
    ...(onnx ? { runs: 4 } : {}),
    ...(graphs ? { only: graphs.split(',') } : {}),
    ...(composite ? { lrpComposite: composite } : {}),
  });
}
