// Runs inside the scratch project of scripts/pack-smoke.sh, where the packed tarballs are installed
// from npm's point of view (no workspace, no source): what a new user gets. Exits non-zero on the
// first thing that does not work.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = process.cwd();
const step = (what) => console.log(`pack-smoke: ${what}`);

// 1. The public API of every package imports.
const core = await import('@blameboard/core');
const tfjs = await import('@blameboard/tfjs');
const datasets = await import('@blameboard/datasets');
const models = await import('@blameboard/models');
const methodsPkg = await import('@blameboard/methods');
const metrics = await import('@blameboard/metrics');
const reports = await import('@blameboard/reports');
const cli = await import('blameboard');
for (const [name, mod, names] of [
  ['@blameboard/core', core, ['loadModel', 'forward', 'writeOnnx', 'readOnnx', 'saveNpy', 'loadNpy', 'compileExplanation']],
  ['@blameboard/tfjs', tfjs, ['loadTfjsModel', 'convertLayersModel', 'importLayersModel', 'tfGradient', 'tfForward', 'initTfjs']],
  ['@blameboard/datasets', datasets, ['loadDataset', 'loadInputs', 'datasets']],
  ['@blameboard/models', models, ['resolveModel', 'zoo', 'equivalentPairs']],
  ['@blameboard/methods', methodsPkg, ['explain', 'methods']],
  ['@blameboard/metrics', metrics, ['evaluate', 'metrics']],
  ['@blameboard/reports', reports, ['aggregateResults', 'renderMarkdown', 'renderHtml']],
  ['blameboard', cli, ['main']],
]) {
  for (const n of names) assert.ok(mod[n] !== undefined, `${name} exports ${n}`);
}
step('every package imports and exports its public API');

// 2. @blameboard/core has no tfjs anywhere in its dependency tree (as installed).
function dependencyTree(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const pkg = JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    if (existsSync(join(here, 'node_modules', dep, 'package.json'))) dependencyTree(dep, seen);
  }
  return seen;
}
const coreTree = [...dependencyTree('@blameboard/core')];
assert.deepEqual(coreTree.filter((d) => d.startsWith('@tensorflow/')), [], '@blameboard/core depends on no tfjs package');
step(`@blameboard/core's dependency tree (${coreTree.length} packages) holds no @tensorflow package`);

// 3. Explain a zoo model on a few MNIST test digits: Integrated Gradients must be complete.
const model = await models.resolveModel('mnist-cnn');
const data = await datasets.loadDataset('mnist', { split: 'test', count: 4 });
const logits = await core.forward(model, data.inputs);
const targets = Int32Array.from({ length: 4 }, (_, i) => {
  const row = logits.data.subarray(i * 10, (i + 1) * 10);
  return row.indexOf(Math.max(...row));
});
assert.deepEqual([...targets], [...data.labels].map(Number), 'mnist-cnn classifies the first four test digits');
const { attributions } = await methodsPkg.explain({ model, inputs: data.inputs, targets, method: 'integrated-gradients', params: { steps: 64 }, data });
assert.deepEqual(attributions.shape, data.inputs.shape);
const zero = core.float32(data.inputs.shape);
const atZero = await core.forward(model, zero);
for (let i = 0; i < 4; i++) {
  const per = 784;
  let sum = 0;
  for (let j = 0; j < per; j++) sum += attributions.data[i * per + j];
  const delta = logits.data[i * 10 + targets[i]] - atZero.data[i * 10 + targets[i]];
  assert.ok(Math.abs(sum - delta) <= 0.02 * Math.abs(delta) + 1e-3, `IG is complete on sample ${i}: Σ = ${sum}, f(x) − f(0) = ${delta}`);
}
step('explained mnist-cnn on 4 MNIST digits with Integrated Gradients (complete within 2%)');

// 4. A metric on it, and a tfjs model.json through @blameboard/tfjs (wasm backend from the tarball).
const selectivity = await metrics.evaluate({ model, inputs: data.inputs, targets, metric: 'selectivity', params: { steps: 8 }, attributions, data, seed: 0 });
assert.ok(Number.isFinite(selectivity.values.abpc.mean), 'selectivity gives a finite ABPC');
const tfjsModel = await tfjs.loadTfjsModel(join(here, 'node_modules/@blameboard/models/zoo/tfjs/mnist-mlp/model.json'));
const flat = { ...data.inputs, shape: [4, 784] };
const viaTfjs = await core.forward(tfjsModel, flat);
const viaZoo = await core.forward(await models.resolveModel('mnist-mlp'), flat);
viaTfjs.data.forEach((v, i) => assert.ok(Math.abs(v - viaZoo.data[i]) < 1e-4, 'the tfjs model.json computes what the zoo ONNX does'));
step(`selectivity ABPC ${selectivity.values.abpc.mean.toFixed(3)}; mnist-mlp's model.json through @blameboard/tfjs equals its ONNX`);

// 5. Inputs for the CLI: four digits, and a small ONNX model of the user's own.
core.saveNpy(join(here, 'digits.npy'), data.inputs);
const W = core.float32([3, 5], Array.from({ length: 15 }, (_, i) => ((i * 7) % 11) / 5 - 1));
const own = {
  name: 'own', irVersion: 8, opsetVersion: 13, producerName: 'pack-smoke',
  inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 5] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
  initializers: new Map([['W', W], ['b', core.float32([3], [0.1, -0.2, 0.3])]]),
  nodes: [
    { name: 'fc', opType: 'Gemm', domain: '', inputs: ['x', 'W', 'b'], outputs: ['h'], attributes: { transB: { type: 'int', value: 1 } } },
    { name: 'act', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['y'], attributes: {} },
  ],
  values: new Map(),
};
writeFileSync(join(here, 'own.onnx'), core.writeOnnx(own));
core.saveNpy(join(here, 'own-x.npy'), core.float32([2, 5], [1, 2, 3, 4, 5, -1, 0.5, 2, 0, 1]));

// 6. The bin, as a user calls it.
const npx = (...args) => execFileSync('npx', ['--no-install', 'blameboard', ...args], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const listed = JSON.parse(npx('list', 'methods', '--json')).map((m) => m.id);
assert.deepEqual(listed, methodsPkg.methods.map((m) => m.id), 'list methods lists every method');
const plain = npx('list', 'methods');
for (const id of listed) assert.match(plain, new RegExp(`^${id} `, 'm'), `plain list names ${id}`);
step(`npx blameboard list methods: all ${listed.length} methods`);
npx('explain', '--model', 'mnist-cnn', '--inputs', 'digits.npy', '--method', 'lrp', '--params', '{"composite": "epsilon-gamma-box"}', '--out', 'zoo-lrp.npy', '--heatmap', 'zoo-lrp.png');
const zooMap = core.loadNpy(join(here, 'zoo-lrp.npy'));
assert.deepEqual(zooMap.shape, [4, 1, 28, 28]);
assert.ok(existsSync(join(here, 'zoo-lrp.png')));
npx('explain', '--model', './own.onnx', '--inputs', 'own-x.npy', '--method', 'gradient-x-input', '--out', 'own-gxi.npy');
const ownMap = core.loadNpy(join(here, 'own-gxi.npy'));
assert.deepEqual(ownMap.shape, [2, 5]);
// gradient × input of a Gemm + Relu by hand: x ⊙ W[t] where the target's pre-activation is positive.
const x = [[1, 2, 3, 4, 5], [-1, 0.5, 2, 0, 1]];
x.forEach((row, n) => {
  const y = [0, 1, 2].map((o) => row.reduce((s, v, j) => s + v * W.data[o * 5 + j], [0.1, -0.2, 0.3][o]));
  const t = y.indexOf(Math.max(...y));
  row.forEach((v, j) => assert.ok(Math.abs(ownMap.data[n * 5 + j] - (y[t] > 0 ? v * W.data[t * 5 + j] : 0)) < 1e-5, 'gradient × input of the own model'));
});
step('npx blameboard explain: zoo mnist-cnn (LRP, heatmap) and an ONNX file of our own (gradient × input checked by hand)');
