/**
 * `pnpm perf --compare`: whole processes, Blameboard against plain PyTorch autograd (issue 10's
 * table). Not part of CI: it needs Debian's python3-torch and python3-torchvision for
 * /usr/bin/python3 (or --python PATH) and says how to install them when they are missing.
 *
 * Each row runs `node apps/runner/dist/cli.js explain …` (what `pnpm -s blameboard explain` runs,
 * without pnpm's own start-up) and `python3 bench/compare.py …` on the same inputs and target,
 * alternately, `--repeats` times (default 2). Both sides use the machine's threads: ours
 * onnxruntime's default (all cores), torch `set_num_threads(--threads, default 2)`. Blameboard's
 * first process of a row starts with an empty compile cache (reported as "cold"); the timed
 * pairs then run with the cache it left, as a user's second run would. Each ratio is
 * best(Blameboard) / best(torch); the spread is the range of the per-pair ratios.
 *
 * mnist-cnn runs with the zoo model's own weights on both sides (the outputs of gradient and IG
 * are compared too); resnet50 / efficientnet_b0 / mobilenet_v2 run Blameboard's IR-written
 * builders (seeded random weights) against torchvision's models (torch's own seeded random
 * weights): the weights differ, which does not change the work either side does. LRP on the
 * torch side is compare.py's Zennit-style equivalent, not Zennit (see its docstring).
 *
 *   pnpm perf --compare [--only resnet50,mnist-cnn:gradient] [--repeats N] [--threads N] [--python PATH] [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { float32, loadNpy, loadOnnxFile, Rng, saveNpy } from '@blameboard/core';
import { loadDataset } from '@blameboard/datasets';
import { imagenetOnnx, ZOO_DIR } from '@blameboard/models';


type ModelId = 'mnist-cnn' | 'resnet50' | 'efficientnet_b0' | 'mobilenet_v2';

interface Row {
  model: ModelId;
  method: 'gradient' | 'integrated-gradients' | 'smoothgrad' | 'lrp';
  params: Record<string, unknown>;
  inputs: number;
}

const IMAGENET: ModelId[] = ['resnet50', 'efficientnet_b0', 'mobilenet_v2'];
export const ROWS: Row[] = [
  { model: 'mnist-cnn', method: 'gradient', params: {}, inputs: 32768 },
  { model: 'mnist-cnn', method: 'integrated-gradients', params: { steps: 32 }, inputs: 2048 },
  { model: 'mnist-cnn', method: 'smoothgrad', params: { samples: 16 }, inputs: 2048 },
  { model: 'mnist-cnn', method: 'lrp', params: { composite: 'epsilon-gamma-box' }, inputs: 16384 },
  ...IMAGENET.flatMap((model): Row[] => [
    { model, method: 'gradient', params: {}, inputs: 16 },
    { model, method: 'integrated-gradients', params: { steps: 32 }, inputs: 16 },
    { model, method: 'smoothgrad', params: { samples: 16 }, inputs: 16 },
    { model, method: 'lrp', params: { composite: 'epsilon-plus' }, inputs: 16 },
  ]),
];

const TARGET = 7;
/** Rows per forward/backward pass on the torch side (Captum's internal_batch_size). */
const torchBatch = (model: ModelId) => (model === 'mnist-cnn' ? 256 : 16);

export function rowLabel(r: Row): string {
  const extra = r.method === 'integrated-gradients' ? ` ${String(r.params.steps)} steps` : r.method === 'smoothgrad' ? ` ${String(r.params.samples)} samples` : r.method === 'lrp' ? ` ${String(r.params.composite)}` : '';
  return `${r.model}, ${r.method}${extra}, ${r.inputs} inputs`;
}

interface Timed {
  wallMs: number;
  /** What the process itself reported as its compute time (the rest is start-up and I/O). */
  computeMs: number | null;
  /** The run-mode choice a Blameboard process measured (BLAMEBOARD_PARALLEL_LOG), if it made one. */
  modeLine?: string;
}

export interface CompareFigure {
  row: string;
  coldMs: number;
  /** The run mode the first (cold) process chose, from its measurement. */
  mode?: string;
  ours: Timed[];
  torch: Timed[];
  ratio: number;
  ratioSpread: [number, number];
  /** max |ours − torch| / max |torch|, where both sides run the same weights (mnist-cnn gradient and IG). */
  agreement?: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Timed {
  const t = performance.now();
  const child = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const wallMs = performance.now() - t;
  if (child.status !== 0) throw new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} … exited ${child.status}:\n${child.stderr}`);
  const m = / in (\d+) ms/.exec(child.stderr);
  const mode = [...child.stderr.matchAll(/run mode .*/g)].at(-1); // the last choice (steady runs replace first runs)
  return { wallMs, computeMs: m ? Number(m[1]) : null, ...(mode ? { modeLine: mode[0] } : {}) };
}

/** Checks torch is importable by `python`; otherwise prints how to get it and returns false. */
export function torchAvailable(python: string): boolean {
  const probe = spawnSync(python, ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'], { encoding: 'utf8' });
  if (probe.status === 0) {
    process.stderr.write(`compare: torch ${probe.stdout.trim()} (${python})\n`);
    return true;
  }
  console.log(
    `perf --compare needs PyTorch and torchvision for ${python}, which cannot import them:\n  ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}\n` +
      'On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y python3-torch python3-torchvision\n' +
      '(then run with /usr/bin/python3, the default; another interpreter: --python PATH, e.g. one with `pip install torch torchvision`).',
  );
  return false;
}

export interface CompareOptions {
  only?: string[];
  repeats: number;
  threads: number;
  python: string;
  log: (line: string) => void;
}

export async function compare(opts: CompareOptions): Promise<CompareFigure[]> {
  const rows = ROWS.filter((r) => !opts.only || opts.only.some((o) => (o.includes(':') ? `${r.model}:${r.method}` === o : r.model === o)));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-compare-'));
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const script = fileURLToPath(new URL('./compare.py', import.meta.url));
  const figures: CompareFigure[] = [];
  try {
    const files = new Map<string, { model: string; inputs: string; weights?: string }>();
    const prepare = async (r: Row) => {
      const key = `${r.model}:${r.inputs}`;
      let f = files.get(key);
      if (f) return f;
      const inputs = path.join(dir, `${r.model}-${r.inputs}.npy`);
      if (r.model === 'mnist-cnn') {
        const ds = await loadDataset('mnist', { split: 'train', count: r.inputs, seed: 0, layout: 'nchw' });
        saveNpy(inputs, ds.inputs);
        const weights = path.join(dir, 'mnist-cnn-weights');
        mkdirSync(weights, { recursive: true });
        for (const [name, t] of loadOnnxFile(path.join(ZOO_DIR, 'mnist-cnn.onnx')).initializers) saveNpy(path.join(weights, `${name}.npy`), t);
        f = { model: 'mnist-cnn', inputs, weights };
      } else {
        const model = path.join(dir, `${r.model}.onnx`);
        writeFileSync(model, imagenetOnnx(r.model));
        saveNpy(inputs, float32([r.inputs, 3, 224, 224], new Rng(20240).fillUniform(new Float32Array(r.inputs * 3 * 224 * 224))));
        f = { model, inputs };
      }
      files.set(key, f);
      return f;
    };
    for (const r of rows) {
      const f = await prepare(r);
      const label = rowLabel(r);
      const ourOut = path.join(dir, 'ours.npy');
      const torchOut = path.join(dir, 'torch.npy');
      const cache = mkdtempSync(path.join(dir, 'cache-'));
      const ourEnv = { ...process.env, BLAMEBOARD_CACHE_DIR: cache, BLAMEBOARD_PARALLEL_LOG: '1' };
      const ourArgs = [cli, 'explain', '--model', f.model, '--inputs', f.inputs, '--targets', String(TARGET), '--method', r.method, '--params', JSON.stringify(r.params), '--out', ourOut];
      const torchArgs = [
        script, '--model', r.model, '--method', r.method, '--inputs', f.inputs, '--target', String(TARGET), '--batch', String(torchBatch(r.model)),
        '--threads', String(opts.threads), '--out', torchOut,
        ...(f.weights ? ['--weights', f.weights] : []),
        ...(r.params.steps ? ['--steps', String(r.params.steps)] : []),
        ...(r.params.samples ? ['--samples', String(r.params.samples)] : []),
        ...(r.params.composite ? ['--composite', String(r.params.composite)] : []),
      ];
      opts.log(`compare: ${label}`);
      const cold = run(process.execPath, ourArgs, ourEnv);
      opts.log(`  blameboard, empty compile cache: ${(cold.wallMs / 1000).toFixed(2)} s${cold.modeLine ? ` (${cold.modeLine})` : ''}`);
      const ours: Timed[] = [];
      const torch: Timed[] = [];
      for (let k = 0; k < opts.repeats; k++) {
        ours.push(run(process.execPath, ourArgs, ourEnv));
        torch.push(run(opts.python, torchArgs, process.env));
        opts.log(`  pair ${k + 1}: blameboard ${(ours[k].wallMs / 1000).toFixed(2)} s, torch ${(torch[k].wallMs / 1000).toFixed(2)} s${ours[k].modeLine ? ` (${ours[k].modeLine})` : ''}`);
      }
      const best = (t: Timed[]) => Math.min(...t.map((x) => x.wallMs));
      const pairRatios = ours.map((o, k) => o.wallMs / torch[k].wallMs);
      const figure: CompareFigure = {
        row: label,
        coldMs: cold.wallMs,
        ...(cold.modeLine ? { mode: cold.modeLine } : {}),
        ours,
        torch,
        ratio: best(ours) / best(torch),
        ratioSpread: [Math.min(...pairRatios), Math.max(...pairRatios)],
      };
      if (r.model === 'mnist-cnn' && (r.method === 'gradient' || r.method === 'integrated-gradients')) {
        const a = loadNpy(ourOut).data as Float32Array;
        const b = loadNpy(torchOut).data as Float32Array;
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < a.length; i++) {
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
          scale = Math.max(scale, Math.abs(b[i]));
        }
        figure.agreement = diff / scale;
      }
      figures.push(figure);
      rmSync(cache, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

export function printCompare(figures: CompareFigure[], repeats: number): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(`\nwhole processes, best of ${repeats} (Blameboard with the compile cache its first run left; cold = that first run)`);
  console.log('| work | Blameboard s | torch s | ratio | ratio spread | Blameboard cold s | compute s (ours / torch) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const f of figures) {
    const bo = f.ours.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const bt = f.torch.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const compute = `${bo.computeMs === null ? '?' : s(bo.computeMs)} / ${bt.computeMs === null ? '?' : s(bt.computeMs)}`;
    const agree = f.agreement === undefined ? '' : ` (outputs agree to ${f.agreement.toExponential(1)})`;
    console.log(`| ${f.row}${agree} | ${s(bo.wallMs)} | ${s(bt.wallMs)} | ${f.ratio.toFixed(2)} | ${f.ratioSpread[0].toFixed(2)}–${f.ratioSpread[1].toFixed(2)} | ${s(f.coldMs)} | ${compute} |`);
  }
}
