import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, loadNpy, OnnxSession, Rng, saveNpy, sizeOf, type Tensor } from '@blameboard/core';
import { caseSeed, cleanup, FUZZ_SCALE, FUZZ_SEED, fuzzCase, FuzzLog, scratch, specialFiles } from './test-utils/harness.js';
import { baseModels, BYTE_MUTATIONS, STRUCTURAL, type BaseModel } from './test-utils/models.js';
import { modelBytes } from './test-utils/proto.js';

/**
 * Mutated ONNX models through `predict` and `explain`: bit flips, truncation, wrong dtypes and
 * dims, cycles, huge declared shapes, missing initializers, unknown ops and domains, external
 * data. A model that still loads must give what onnxruntime itself computes on it.
 */

const CASES = 900 * FUZZ_SCALE;
const log = new FuzzLog();
const root = scratch('onnx');
const outside = scratch('onnx-outside');
afterAll(async () => {
  await disposeSessions();
  cleanup(root);
  cleanup(outside);
});

const inputsFor = new Map<string, string>();
function inputsFile(sample: number[]): string {
  const key = sample.join('x');
  let file = inputsFor.get(key);
  if (!file) {
    file = join(root, `x-${key}.npy`);
    const n = 4;
    const x = new Float32Array(n * sizeOf(sample));
    new Rng(3).fillUniform(x, -1, 1);
    saveNpy(file, float32([n, ...sample], x));
    inputsFor.set(key, file);
  }
  return file;
}

function finite(t: Tensor): boolean {
  for (const v of t.data as Float32Array) if (!Number.isFinite(v)) return false;
  return true;
}

/** The logits onnxruntime computes on the model file itself, or null when it will not run it. */
async function onnxruntimeLogits(file: string, x: Tensor): Promise<Tensor | null> {
  let session: OnnxSession;
  try {
    session = await OnnxSession.create(file, { intraOpNumThreads: 1 });
  } catch {
    return null;
  }
  try {
    const out = await session.run({ [session.inputNames[0]]: x });
    return out[session.outputNames[0]];
  } catch {
    return null;
  } finally {
    await session.dispose();
  }
}

function mutate(base: BaseModel, rng: Rng): { model: BaseModel; bytes: Uint8Array; label: string } {
  const model = structuredClone(base);
  const labels: string[] = [`${base.name}`];
  const kinds = Object.keys(STRUCTURAL);
  const structural = rng.next() < 0.65;
  if (structural) {
    const n = 1 + (rng.next() < 0.3 ? 1 : 0);
    for (let k = 0; k < n; k++) {
      const kind = kinds[rng.int(kinds.length)];
      try {
        labels.push(`${kind}: ${STRUCTURAL[kind](model, rng)}`);
      } catch {
        // A second mutation may find nothing to act on (no input left, no initializer).
        labels.push(`${kind}: not applicable`);
      }
    }
  }
  let bytes = modelBytes(model.spec);
  if (!structural || rng.next() < 0.15) {
    const byteKinds = Object.keys(BYTE_MUTATIONS);
    const kind = byteKinds[rng.int(byteKinds.length)];
    const [mutated, what] = BYTE_MUTATIONS[kind](bytes, rng);
    bytes = mutated;
    labels.push(`${kind}: ${what}`);
  }
  return { model, bytes, label: labels.join('; ') };
}

describe('fuzz: mutated ONNX models', () => {
  it(`${CASES} seeded cases end in a correct result or one clean line with exit 2`, async () => {
    const bases = baseModels(FUZZ_SEED);
    for (let i = 0; i < CASES; i++) {
      const rng = new Rng(caseSeed(0, i));
      const base = bases[rng.int(bases.length)];
      const { model, bytes, label } = mutate(base, rng);
      const dir = join(root, `case-${i}`);
      mkdirSync(dir);
      const file = join(dir, 'model.onnx');
      writeFileSync(file, bytes);
      for (const [name, data] of Object.entries(model.files)) writeFileSync(join(dir, name), data);
      if (label.includes('external=')) specialFiles(dir, outside);
      const x = inputsFile(base.sample);
      const out = join(dir, 'out.npy');
      const explainWith = i % 5 === 4 ? ['gradient', 'deeplift', 'lrp', 'integrated-gradients', 'occlusion'][(i / 5) % 5 | 0] : null;
      const argv = explainWith
        ? ['explain', '--model', file, '--inputs', x, '--targets', '0', '--method', explainWith, '--out', out]
        : ['predict', '--model', file, '--inputs', x, '--out', out];
      // Blameboard explains logits: a Softmax producing the output is stripped, wherever it is written.
      const endsInSoftmax = model.spec.graph.nodes.some((n) => n.op === 'Softmax' && n.outputs.includes(model.spec.graph.outputs[0]?.name));
      await fuzzCase(log, {
        family: explainWith ? `explain ${explainWith}` : 'predict',
        label: `case ${i} (seed ${caseSeed(0, i)}): ${label}`,
        argv,
        dir,
        outputs: [out],
        check: async () => {
          const result = loadNpy(out);
          const inputs = loadNpy(x);
          if (!finite(result)) return 'non-finite values written with exit 0';
          if (explainWith) return result.shape.join() === inputs.shape.join() ? null : `attributions [${result.shape}] for inputs [${inputs.shape}]`;
          if (result.shape.length !== 2 || result.shape[0] !== inputs.shape[0]) return `logits of shape [${result.shape}]`;
          if (endsInSoftmax) return null;
          const want = await onnxruntimeLogits(file, inputs);
          if (!want || want.data.length !== result.data.length) return null;
          for (let k = 0; k < want.data.length; k++) {
            const a = Number(want.data[k]);
            const b = Number(result.data[k]);
            if (Math.abs(a - b) > 1e-4 * Math.max(1, Math.abs(a))) return `logit ${k} is ${b}, onnxruntime computes ${a}`;
          }
          return null;
        },
      });
      cleanup(dir);
      if (i % 100 === 99) await disposeSessions();
    }
    console.log(log.summary('ONNX'));
    expect(log.failures).toEqual([]);
    expect(log.cases).toBe(CASES);
    // The mutations must reach past the decoder: some models still run, many are refused.
    expect(log.exits.get(0) ?? 0).toBeGreaterThan(CASES / 20);
    expect(log.exits.get(2) ?? 0).toBeGreaterThan(CASES / 3);
  }, 600_000);
});
