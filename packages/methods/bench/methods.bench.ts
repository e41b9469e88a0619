/**
 * Compiled explanation graphs against the bare forward pass on a LeNet-sized CNN and on the
 * trained zoo mnist-cnn (when built), batch 256 (SPEC §8 ratios; `pnpm perf` in apps/runner
 * measures the methods end to end). Run:
 *   cd packages/methods && npx vitest bench --run bench/methods.bench.ts
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bench, describe } from 'vitest';
import { compileExplanation, foldBatchNorm, loadOnnxFile, OnnxSession, resolveParams, writeOnnx } from '@blameboard/core';
import { ruleParams } from '../src/methods/lrp-explain.js';
import { lrpParams } from '../src/methods/lrp.js';
import type { MaxPoolMode } from '../src/rules/lrp/maxpool.js';
import type { BiasMode, GateMode } from '../src/rules/lrp/ruleset.js';
import { compositeMap } from '../src/rules/lrp/composites.js';
import { lrpRuleSet } from '../src/rules/lrp/ruleset.js';
import { oneHot } from '../src/compiled.js';
import { deepLiftRules } from '../src/rules/deeplift.js';
import { gradientRules } from '../src/rules/gradient/index.js';
import { graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';

const lenet = graphOf(
  [
    node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: ints([5, 5]), pads: ints([2, 2, 2, 2]) }),
    node('Relu', ['c1'], ['r1']),
    node('MaxPool', ['r1'], ['p1'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
    node('Conv', ['p1', 'w2', 'b2'], ['c2'], { kernel_shape: ints([5, 5]) }),
    node('Relu', ['c2'], ['r2']),
    node('MaxPool', ['r2'], ['p2'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
    node('Flatten', ['p2'], ['f']),
    node('Gemm', ['f', 'w3', 'b3'], ['h3'], { transB: int(1) }),
    node('Relu', ['h3'], ['a3']),
    node('Gemm', ['a3', 'w4', 'b4'], ['h4'], { transB: int(1) }),
    node('Relu', ['h4'], ['a4']),
    node('Gemm', ['a4', 'w5', 'b5'], ['y'], { transB: int(1) }),
  ],
  {
    w1: randomTensor([6, 1, 5, 5], 1, 0.3), b1: randomTensor([6], 2, 0.1),
    w2: randomTensor([16, 6, 5, 5], 3, 0.1), b2: randomTensor([16], 4, 0.1),
    w3: randomTensor([120, 400], 5, 0.05), b3: randomTensor([120], 6, 0.1),
    w4: randomTensor([84, 120], 7, 0.1), b4: randomTensor([84], 8, 0.1),
    w5: randomTensor([10, 84], 9, 0.1), b5: randomTensor([10], 10, 0.1),
  },
  ['N', 1, 28, 28],
);

const n = 256;
const x = randomTensor([n, 1, 28, 28], 11);
const seed = oneHot(Int32Array.from({ length: n }, (_, i) => i % 10), 10);
const forward = await OnnxSession.create(writeOnnx(lenet));
const gradient = await OnnxSession.create(writeOnnx(compileExplanation(lenet, gradientRules(), { start: 'seed-input' }).graph));
const deeplift = await OnnxSession.create(writeOnnx(compileExplanation(lenet, deepLiftRules(), { start: 'seed-input', withBaseline: true }).graph));
const baseline = randomTensor([n, 1, 28, 28], 12, 0.1);

describe('LeNet-sized CNN, batch 256 (onnxruntime)', () => {
  bench('forward', async () => {
    await forward.run({ x });
  }, { iterations: 20, warmupIterations: 3 });
  bench('gradient (forward + backward)', async () => {
    await gradient.run({ x, seed });
  }, { iterations: 20, warmupIterations: 3 });
  bench('deeplift (two forwards + rescale backward)', async () => {
    await deeplift.run({ x, seed, baseline });
  }, { iterations: 20, warmupIterations: 3 });
});

// The trained zoo model (packages/models/zoo, built by `blameboard train`).
const zooFile = fileURLToPath(new URL('../../models/zoo/mnist-cnn.onnx', import.meta.url));
if (existsSync(zooFile)) {
  const zoo = loadOnnxFile(zooFile);
  const pixels = randomTensor([n, 1, 28, 28], 13);
  const px = pixels.data as Float32Array;
  for (let i = 0; i < px.length; i++) px[i] = Math.min(1, Math.max(0, px[i])); // pixel range, as z-box expects
  const zooForward = await OnnxSession.create(writeOnnx(zoo));
  const zooGradient = await OnnxSession.create(writeOnnx(compileExplanation(zoo, gradientRules(), { start: 'seed-input' }).graph));
  const zooDeeplift = await OnnxSession.create(writeOnnx(compileExplanation(zoo, deepLiftRules(), { start: 'seed-input', withBaseline: true }).graph));
  // LRP at its defaults (the spec's), as `explain` runs it without parameters.
  const lrpDefaults = resolveParams('lrp', lrpParams, {});
  const lrpSettings = {
    composite: compositeMap(lrpDefaults.composite as string),
    params: ruleParams(lrpDefaults, { low: 0, high: 1 }),
    layerRules: [],
    stabilizer: lrpDefaults.stabilizer as number,
    bias: lrpDefaults.bias as BiasMode,
    maxpool: lrpDefaults.maxpool as MaxPoolMode,
    gates: lrpDefaults.gates as GateMode,
    inputNonNegative: true,
  };
  const zooLrp = await OnnxSession.create(writeOnnx(compileExplanation(foldBatchNorm(zoo), lrpRuleSet(lrpSettings), { start: 'seed-times-output' }).graph));
  const [xName] = zooForward.inputNames;
  const zeros = randomTensor([n, 1, 28, 28], 14, 0);

  describe('zoo mnist-cnn, batch 256 (onnxruntime)', () => {
    bench('forward', async () => {
      await zooForward.run({ [xName]: pixels });
    }, { iterations: 30, warmupIterations: 3 });
    bench('gradient (forward + backward)', async () => {
      await zooGradient.run({ [zooGradient.inputNames[0]]: pixels, [zooGradient.inputNames[1]]: seed });
    }, { iterations: 30, warmupIterations: 3 });
    bench('deeplift (two forwards + rescale backward)', async () => {
      await zooDeeplift.run({ [zooDeeplift.inputNames[0]]: pixels, [zooDeeplift.inputNames[1]]: seed, [zooDeeplift.inputNames[2]]: zeros });
    }, { iterations: 30, warmupIterations: 3 });
    bench('lrp epsilon-gamma-box', async () => {
      await zooLrp.run({ [zooLrp.inputNames[0]]: pixels, [zooLrp.inputNames[1]]: seed });
    }, { iterations: 30, warmupIterations: 3 });
  });
}
