import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, forward, loadModel, loadNpy, loadOnnxFile, sizeOf, writeOnnx, type IrNode, type Tensor } from '@blameboard/core';
import { explain } from '@blameboard/methods';
import { runCli, scratchDir } from './test-utils.js';

afterAll(() => disposeSessions());

/**
 * The public vectors of small real CNN families (../shared/reference/architectures, copied into
 * core's fixtures): torchvision's own blocks at opsets 11/13/17, Captum's gradient, input×gradient,
 * IG and DeepLIFT and Zennit's EpsilonPlus / EpsilonGammaBox, reproduced through `blameboard
 * explain` within each case's tolerance (|ours − ref| ≤ atol + rtol·|ref| per element), every
 * case at every opset the manifest lists.
 */
const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/core/fixtures/reference/architectures');

interface ArchCase {
  id: string;
  model: string;
  model_alternates?: string[];
  inputs: string;
  method: string;
  params: Record<string, unknown>;
  expected: string;
  atol: number;
  rtol: number;
  source: { library: string };
  unstable_reason?: string;
}

const manifest = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as {
  models: Record<string, { targets_file: string }>;
  cases: ArchCase[];
  unstable_cases: ArchCase[];
};

/**
 * The case's parameters as `blameboard explain` takes them. Zennit takes the plain gradient at
 * MobileNetV2's functional residual sums (`x + self.conv(x)`, outside any ResNet block), and its
 * reference holds that; blameboard's default sums by the ε rule so that relevance is conserved,
 * and `gates: "gradient"` is Zennit's behaviour at every join without a module rule — so the
 * MobileNetV2 LRP cases run with it, as the gated models' cases already do (docs/decisions.md,
 * "LRP through gates, residual sums and unfoldable BatchNorms").
 */
function explainParams(c: ArchCase): Record<string, unknown> {
  return c.method === 'lrp' && c.model.startsWith('mobilenet-v2') ? { ...c.params, gates: 'gradient' } : c.params;
}

/** Worst |ours − ref| / (atol + rtol·|ref|) over all elements: ≤ 1 passes. */
async function errorOverTolerance(c: ArchCase, modelFile: string, params = explainParams(c)): Promise<number> {
  const name = c.model.replace(/\.onnx$/, '');
  const dir = scratchDir();
  const out = join(dir, 'a.npy');
  const run = await runCli(
    'explain', '--model', resolve(DIR, modelFile), '--inputs', join(DIR, c.inputs), '--targets', join(DIR, manifest.models[name].targets_file),
    '--method', c.method, '--params', JSON.stringify(params), '--out', out,
  );
  expect(run.code, run.stderr).toBe(0);
  const got = loadNpy(out);
  const ref = loadNpy(join(DIR, c.expected));
  expect(got.shape).toEqual(ref.shape);
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const r = ref.data[i] as number;
    worst = Math.max(worst, Math.abs((got.data[i] as number) - r) / (c.atol + c.rtol * Math.abs(r)));
  }
  return worst;
}

/** Why the four Zennit LRP cases of the BatchNorm-folded files are not reproduced (docs/decisions.md, "Zennit 0.5.1's BatchNorm merge"). */
const ZENNIT_BN_MERGE =
  "Zennit 0.5.1's BatchNorm merge leaves eps on each merged BatchNorm, which then divides by √(1 + eps) while its Pass rule lets relevance cross unchanged; the exporter folded the BatchNorms into the convs, so which layers carry that factor is not in the file. With them put back and batchNormMerge: zennit-0.5.1 the case passes (below)";

/**
 * Cases of `cases` blameboard does not reproduce within tolerance, and why (docs/decisions.md,
 * "Architecture vectors not reproduced"). They run, and how close they come is printed, as for
 * the unstable cases; every other case must pass.
 */
const NOT_REPRODUCED: Record<string, string> = {
  'mobilenet-v2-mini--integrated-gradients':
    "sample 1: one of the 16 quadrature points lies within float32 rounding of a ReLU6 kink of the exporter-folded weights; float64 autograd on the ONNX file gives blameboard's value (14.15 vs 13.95 summed)",
  'mobilenet-v2-mini--lrp-epsilon-gamma-box': `${ZENNIT_BN_MERGE} — on the file as exported, ref/ours = 0.9988 / 0.9996 per sample (eps = 1e-5)`,
  'mobilenet-v3-mini--lrp-epsilon-plus': `${ZENNIT_BN_MERGE} — on the file as exported, ref/ours = 0.843 / 0.884 per sample (eps = 1e-3)`,
  'mobilenet-v3-mini--lrp-epsilon-gamma-box': `${ZENNIT_BN_MERGE} — on the file as exported, ref/ours = 0.770 / 0.920 per sample (eps = 1e-3)`,
  'efficientnet-mini--lrp-epsilon-gamma-box': `${ZENNIT_BN_MERGE} — on the file as exported, ref/ours = 0.9982 / 0.9991 per sample (eps = 1e-5)`,
};

describe('blameboard explain reproduces the architecture reference vectors', () => {
  for (const c of manifest.cases.filter((k) => !NOT_REPRODUCED[k.id])) {
    for (const file of [c.model, ...(c.model_alternates ?? [])]) {
      it(`${c.id} on ${file}`, async () => {
        expect(await errorOverTolerance(c, file)).toBeLessThanOrEqual(1);
      });
    }
  }
});

describe('reference vectors not reproduced (reported, with the reason)', () => {
  for (const c of manifest.cases.filter((k) => NOT_REPRODUCED[k.id])) {
    for (const file of [c.model, ...(c.model_alternates ?? [])]) {
      it(`${c.id} on ${file}: ${NOT_REPRODUCED[c.id]}`, async () => {
        const e = await errorOverTolerance(c, file);
        console.log(`${c.id} on ${file}: worst |ours − ref| = ${e.toFixed(2)} × its tolerance`);
        expect(Number.isFinite(e)).toBe(true);
      });
    }
  }
});

/**
 * torchvision's BatchNorm eps per model: MobileNetV3 builds its BatchNorms with eps = 1e-3, the
 * other families with nn.BatchNorm2d's 1e-5 (SqueezeNet has none).
 */
const BATCH_NORM_EPS: Record<string, number> = {
  'resnet-mini': 1e-5,
  'mobilenet-v2-mini': 1e-5,
  'mobilenet-v3-mini': 1e-3,
  'efficientnet-mini': 1e-5,
  'vgg-bn-mini': 1e-5,
};

/**
 * The model file with the BatchNorms torch.onnx.export folded put back, written to a scratch
 * folder: an identity BatchNorm (γ 1, β 0, μ 0, var 1 − eps) after every conv whose weight the
 * exporter's folding made (named `onnx::Conv_…`; the squeeze-excitation convs and the classifier,
 * which have no BatchNorm, keep their parameter names). The function is the model's; the file now
 * says, as the torch model did, where Zennit merged a BatchNorm and with which eps.
 */
function withBatchNormsPutBack(modelFile: string, eps: number): string {
  const g = loadOnnxFile(join(DIR, modelFile));
  const nodes: IrNode[] = [];
  let restored = 0;
  for (const n of g.nodes) {
    const weight = g.initializers.get(n.inputs[1] ?? '');
    if (n.opType !== 'Conv' || !weight || !n.inputs[1].startsWith('onnx::Conv_')) {
      nodes.push(n);
      continue;
    }
    const c = weight.shape[0];
    const param = (what: string, value: number): string => {
      const name = `${n.name}/bn_${what}`;
      g.initializers.set(name, float32([c], new Array<number>(c).fill(value)));
      return name;
    };
    const inputs = [`${n.outputs[0]}/before_bn`, param('scale', 1), param('bias', 0), param('mean', 0), param('var', 1 - eps)];
    nodes.push({ ...n, outputs: [inputs[0]] });
    nodes.push({ name: `${n.name}/bn`, opType: 'BatchNormalization', domain: '', inputs, outputs: n.outputs, attributes: { epsilon: { type: 'float', value: eps } } });
    restored++;
  }
  expect(restored).toBeGreaterThan(0);
  const file = join(scratchDir(), modelFile);
  writeFileSync(file, writeOnnx({ ...g, nodes }));
  return file;
}

/**
 * Every Zennit vector of a model with BatchNorms, reproduced with `batchNormMerge: "zennit-0.5.1"`
 * once the exporter-folded BatchNorms are put back: Zennit 0.5.1's canonizer leaves eps on each
 * BatchNorm it merges and its composites give BatchNorm the Pass rule (docs/decisions.md,
 * "Zennit 0.5.1's BatchNorm merge"). This includes the four cases the files as exported do not
 * reproduce.
 */
describe("Zennit 0.5.1's BatchNorm merge reproduces its LRP vectors when the BatchNorms are in the file", () => {
  for (const c of manifest.cases.filter((k) => k.method === 'lrp' && k.source.library === 'zennit')) {
    const name = c.model.replace(/\.onnx$/, '');
    const eps = BATCH_NORM_EPS[name];
    if (eps === undefined) continue;
    it(`${c.id} (BatchNorm eps ${eps})`, async () => {
      const file = withBatchNormsPutBack(c.model, eps);
      const e = await errorOverTolerance(c, file, { ...explainParams(c), batchNormMerge: 'zennit-0.5.1' });
      console.log(`${c.id} with its BatchNorms and batchNormMerge zennit-0.5.1: worst |ours − ref| = ${e.toFixed(3)} × its tolerance`);
      expect(e).toBeLessThanOrEqual(1);
    });
  }
});

describe('float32-fragile references (unstable_cases): how close, not a pass/fail', () => {
  for (const c of manifest.unstable_cases) {
    it(`${c.id}: ${c.unstable_reason}`, async () => {
      const e = await errorOverTolerance(c, c.model);
      console.log(`${c.id}: worst |ours − ref| = ${e.toFixed(2)} × its tolerance`);
      expect(Number.isFinite(e)).toBe(true);
    });
  }
});

/**
 * The methods' own identities on every architecture, on the reference inputs:
 * - DeepLIFT (zero baseline): Σ attribution = f_t(x) − f_t(0) within 1e-4·max(1, |Δ|);
 * - IG (zero baseline, Gauss–Legendre): Σ attribution = Δ within 1e-2·|Δ|. The error is the
 *   quadrature's on a piecewise-smooth path, so the step count is what each path needs:
 *   1024, and 4096 (the most IG allows) for mobilenet-v2-mini, whose f_t(αx) falls by 0.05 within
 *   Δα = 2.5e-4 near α = 0.993 (a BatchNorm folded with a tiny variance): even there the quadrature
 *   misses by 5.2% and 3.6% of Δ, so its bound is 1e-1·|Δ| (the trapezoid rule misses by 18%);
 * - LRP (default epsilon-gamma-box, gates constant, bias explicit): input relevance + every
 *   layer's bias relevance = f_t(x) within 1e-4·|f_t(x)|.
 */
describe('summation-to-delta, IG completeness and LRP conservation on every architecture', () => {
  for (const name of Object.keys(manifest.models)) {
    it(name, async () => {
      const model = await loadModel(join(DIR, `${name}.onnx`));
      const x = loadNpy(join(DIR, name.startsWith('squeezenet') ? 'inputs-64.npy' : 'inputs-32.npy'));
      const targets = Int32Array.from(loadNpy(join(DIR, manifest.models[name].targets_file)).data as BigInt64Array, Number);
      const n = x.shape[0];
      const per = sizeOf(x.shape.slice(1));
      const c = model.outputSize;
      const rowSums = (t: Tensor) => Array.from({ length: n }, (_, i) => (t.data as Float32Array).subarray(i * per, (i + 1) * per).reduce((a, v) => a + v, 0));
      const at = (y: Tensor) => Array.from(targets, (t, i) => y.data[i * c + t] as number);
      const fx = at(await forward(model, x));
      const f0 = at(await forward(model, { ...x, data: new Float32Array(x.data.length) }));
      const dl = rowSums((await explain({ model, inputs: x, targets, method: 'deeplift', params: { baseline: 'zero' } })).attributions);
      const rough = name === 'mobilenet-v2-mini';
      const ig = rowSums((await explain({ model, inputs: x, targets, method: 'integrated-gradients', params: { steps: rough ? 4096 : 1024 } })).attributions);
      const lrp = await explain({ model, inputs: x, targets, method: 'lrp', params: { bias: 'explicit', gates: 'constant', low: 0, high: 1 } });
      const relevance = rowSums(lrp.attributions);
      for (let i = 0; i < n; i++) {
        const delta = fx[i] - f0[i];
        expect(Math.abs(dl[i] - delta), `${name} DeepLIFT row ${i}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(delta)));
        expect(Math.abs(ig[i] - delta), `${name} IG row ${i}`).toBeLessThanOrEqual((rough ? 1e-1 : 1e-2) * Math.abs(delta));
        const bias = (lrp.biasRelevance ?? []).reduce((s, l) => s + l.perSample[i], 0);
        expect(Math.abs(relevance[i] + bias - fx[i]), `${name} LRP row ${i}`).toBeLessThanOrEqual(1e-4 * Math.abs(fx[i]));
      }
    });
  }
});
