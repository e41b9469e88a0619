import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  disposeSessions,
  float32,
  loadModel,
  loadNpy,
  OnnxSession,
  saveNpy,
  sizeOf,
  writeOnnx,
  type IrGraph,
  type Tensor,
} from '@blameboard/core';
import { methods } from '@blameboard/methods';
import { tfGradient } from '@blameboard/tfjs';
import { runCli, scratchDir } from './test-utils.js';

afterAll(() => disposeSessions());

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/core/fixtures');

/**
 * Graphs as other exporters write them, built with the IR writer (packages/core/scripts/
 * make-fixtures.ts): paddle2onnx at opset 9 (Clip with min/max attributes, BatchNormalization,
 * HardSwish spelt HardSigmoid·x, a squeeze-excitation block, Upsample, the Shape → Slice →
 * Concat → Reshape flatten, MatMul + Add, Softmax) and tf2onnx at opset 13 (NHWC input,
 * Transpose, ReLU6 as Clip, HardSwish as x·Clip(x + 3, 0, 6)/6, SiLU, ReduceMean pooling).
 */
const MODELS = [join(FIXTURES, 'exporters/paddle-opset9-se.onnx'), join(FIXTURES, 'exporters/tf2onnx-opset13.onnx')];

function inputsFor(shape: number[], n: number, seed: number): Tensor {
  const per = sizeOf(shape);
  return float32([n, ...shape], Array.from({ length: n * per }, (_, i) => (((i + seed) * 7919) % 101) / 101));
}

async function ortRun(bytes: Uint8Array, x: Tensor): Promise<Tensor> {
  const s = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    return (await s.run({ [s.inputNames[0]]: x }))[s.outputNames[0]];
  } finally {
    await s.dispose();
  }
}

const rowSums = (t: Tensor): number[] => {
  const per = sizeOf(t.shape.slice(1));
  return Array.from({ length: t.shape[0] }, (_, n) => Array.from(t.data as Float32Array).slice(n * per, (n + 1) * per).reduce((a, v) => a + v, 0));
};

for (const file of MODELS) {
  const name = file.split('/').pop()!;
  describe(`a model from another exporter: ${name}`, () => {
    const dir = scratchDir();
    const n = 2;
    const targets = [1, 3];
    let shape: number[];
    let graph: IrGraph;
    const xPath = join(dir, 'x.npy');
    const tPath = join(dir, 't.npy');
    const zeroPath = join(dir, 'zero.npy');

    /** f_t(x) per row, from the logit graph (the trailing Softmax stripped). */
    async function targetLogits(x: Tensor): Promise<number[]> {
      const y = await ortRun(writeOnnx(graph), x);
      const c = y.shape[1];
      return targets.map((t, i) => y.data[i * c + t] as number);
    }

    async function explain(method: string, params: Record<string, unknown> = {}, extra: string[] = []): Promise<Tensor> {
      const out = join(dir, `${method}.npy`);
      const run = await runCli('explain', '--model', file, '--inputs', xPath, '--targets', tPath, '--method', method, '--params', JSON.stringify(params), '--out', out, ...extra);
      expect(run.code, `${method}: ${run.stderr}`).toBe(0);
      const a = loadNpy(out);
      expect(a.shape).toEqual([n, ...shape]);
      expect(Array.from(a.data as Float32Array).every(Number.isFinite), method).toBe(true);
      return a;
    }

    it('loads into the IR (its old operator forms read) and predicts what onnxruntime computes on the file', async () => {
      const model = await loadModel(file);
      expect(model.graph, model.graphError).not.toBeNull();
      graph = model.graph!;
      shape = model.inputShape;
      saveNpy(xPath, inputsFor(shape, n, 3));
      saveNpy(zeroPath, float32([n, ...shape]));
      saveNpy(tPath, { dtype: 'int64', shape: [n], data: BigInt64Array.from(targets.map(BigInt)) });
      const x = loadNpy(xPath);
      const want = await ortRun(new Uint8Array(readFileSync(file)), x);
      const run = await runCli('predict', '--model', file, '--inputs', xPath, '--output', 'probability', '--out', join(dir, 'p.npy'));
      expect(run.code, run.stderr).toBe(0);
      const got = loadNpy(join(dir, 'p.npy'));
      expect(got.shape).toEqual(want.shape);
      Array.from(want.data as Float32Array).forEach((v, i) => expect(Math.abs((got.data[i] as number) - v)).toBeLessThan(1e-6));
    });

    it('is explained by every method', async () => {
      for (const m of methods) {
        const params = m.id === 'integrated-gradients' ? { steps: 8 } : m.id === 'smoothgrad' ? { samples: 4 } : {};
        const a = await explain(m.id, params);
        if (!['uniform', 'random'].includes(m.id)) expect(Array.from(a.data as Float32Array).some((v) => v !== 0), m.id).toBe(true);
      }
    });

    it('gradient equals tfjs autodiff', async () => {
      const x = loadNpy(xPath);
      const got = await explain('gradient');
      const want = await tfGradient(graph, x, Int32Array.from(targets));
      const scale = Array.from(want.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(1e-4);
      Array.from(want.data as Float32Array).forEach((v, i) => expect(Math.abs((got.data[i] as number) - v)).toBeLessThanOrEqual(1e-5 * scale));
    });

    it('keeps the completeness identities: IG, DeepLIFT summation-to-delta, LRP conservation (gates constant)', async () => {
      const x = loadNpy(xPath);
      const fx = await targetLogits(x);
      const f0 = await targetLogits(loadNpy(zeroPath));
      const ig = rowSums(await explain('integrated-gradients', { steps: 1024 }));
      const dl = rowSums(await explain('deeplift'));
      const biasOut = join(dir, 'bias.json');
      const lrp = rowSums(await explain('lrp', { bias: 'explicit', gates: 'constant' }, ['--bias-out', biasOut]));
      const bias = (JSON.parse(readFileSync(biasOut, 'utf8')) as { biasRelevance: { perSample: number[] }[] }).biasRelevance;
      for (let i = 0; i < n; i++) {
        const delta = fx[i] - f0[i];
        expect(Math.abs(delta)).toBeGreaterThan(1e-2);
        // 1024 Gauss–Legendre steps over a piecewise-smooth path: the kinks of ReLU6 and the hard
        // sigmoids bound the quadrature error, not float32.
        expect(Math.abs(ig[i] - delta), 'IG completeness').toBeLessThan(2e-3 * Math.abs(delta) + 1e-4);
        expect(Math.abs(dl[i] - delta), 'DeepLIFT summation-to-delta').toBeLessThan(1e-4 * Math.max(1, Math.abs(delta)));
        const conserved = lrp[i] + bias.reduce((s, b) => s + b.perSample[i], 0);
        expect(Math.abs(conserved - fx[i]), 'LRP conservation').toBeLessThan(1e-4 * Math.max(1, Math.abs(fx[i])));
      }
    });
  });
}

describe('a model whose operators have no backward rule', () => {
  it('still predicts, runs occlusion and the controls, and is scored by forward-only metrics; compiled methods refuse it in one grouped line', async () => {
    const dir = scratchDir();
    // The paddle fixture with every ReLU swapped for Softsign (no rule) and an opset-22 copy (outside the IR's 7–21).
    const model = await loadModel(join(FIXTURES, 'exporters/paddle-opset9-se.onnx'));
    const base = model.graph!;
    const softsign: IrGraph = { ...base, nodes: base.nodes.map((nd) => (nd.opType === 'Relu' ? { ...nd, opType: 'Softsign' } : nd)) };
    const files = { softsign: join(dir, 'softsign.onnx'), opset22: join(dir, 'opset22.onnx') };
    (await import('node:fs')).writeFileSync(files.softsign, writeOnnx(softsign));
    (await import('node:fs')).writeFileSync(files.opset22, writeOnnx({ ...base, opsetVersion: 22, irVersion: 10 }));
    const x = join(dir, 'x.npy');
    saveNpy(x, inputsFor(model.inputShape, 3, 5));
    for (const [kind, file] of Object.entries(files)) {
      const loaded = await loadModel(file);
      expect(loaded.graph, kind).toBeNull();
      expect(loaded.graphError, kind).toMatch(kind === 'softsign' ? /Softsign/ : /opset 22/);
      const predict = await runCli('predict', '--model', file, '--inputs', x, '--out', join(dir, `${kind}-p.npy`));
      expect(predict.code, predict.stderr).toBe(0);
      for (const method of ['occlusion', 'uniform', 'random']) {
        const run = await runCli('explain', '--model', file, '--inputs', x, '--method', method, '--out', join(dir, `${kind}-${method}.npy`));
        expect(run.code, `${kind} ${method}: ${run.stderr}`).toBe(0);
      }
      for (const metric of ['selectivity', 'sparseness', 'complexity']) {
        const run = await runCli('evaluate', '--model', file, '--inputs', x, '--attributions', join(dir, `${kind}-occlusion.npy`), '--metric', metric,
          '--params', metric === 'selectivity' ? '{"steps": 4}' : '{}', '--out', join(dir, `${kind}-${metric}.json`));
        expect(run.code, `${kind} ${metric}: ${run.stderr}`).toBe(0);
      }
      const refused = await runCli('explain', '--model', file, '--inputs', x, '--method', 'gradient', '--out', join(dir, `${kind}-g.npy`));
      expect(refused.code).toBe(2);
      expect(refused.stderr.split('\n')).toHaveLength(1);
      if (kind === 'softsign') expect(refused.stderr).toMatch(/Softsign \(node '[^']+'\)/);
      else expect(refused.stderr).toMatch(/opset 22/);
    }
  });
});
