// One training step per backend, for docs/decisions.md: node bench/train-step.mjs wasm|cpu mlp|cnn|cnn32 (build first; B=batch).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { initTrainingBackend } from '../dist/training-backend.js';
const [backend, arch] = process.argv.slice(2);
if (backend === 'wasm') await initTrainingBackend();
await tf.setBackend(backend); await tf.ready();
function cnn(c1, c2, d) {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: c1, kernelSize: 5, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: c2, kernelSize: 5, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: d, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 10 }));
  return m;
}
function mlp() {
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 64, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 10 }));
  return m;
}
const m = arch === 'mlp' ? mlp() : arch === 'cnn32' ? cnn(16, 32, 64) : cnn(8, 16, 64);
m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
const B = Number(process.env.B ?? 64), steps = 30;
const x = arch === 'mlp' ? tf.randomUniform([B * steps, 784]) : tf.randomUniform([B * steps, 28, 28, 1]);
const y = tf.oneHot(tf.randomUniform([B * steps], 0, 10, 'int32'), 10);
await m.fit(tf.slice(x, 0, B*2), tf.slice(y, 0, B*2), { batchSize: B, epochs: 1, verbose: 0 });
const t0 = performance.now();
await m.fit(x, y, { batchSize: B, epochs: 1, verbose: 0 });
const ms = (performance.now() - t0) / steps;
console.log(backend, arch, `${ms.toFixed(1)} ms/step of ${B} → ${(ms * 60000 / B / 1000).toFixed(1)} s/epoch`);
