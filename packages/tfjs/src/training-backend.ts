import * as tf from '@tensorflow/tfjs-core';
// Gradients of every op are registered by tfjs-layers; importing it makes tf.grad work too.
import '@tensorflow/tfjs-layers';
import { initTfjs } from './backend.js';
import { registerWasmConvGradients } from './wasm-conv-kernels.js';

export interface TrainingBackend {
  backend: string;
  tfjsVersion: string;
}

/**
 * The backend the zoo trains on: initTfjs's choice (tfjs-node if installed, else wasm, else cpu) with,
 * on wasm, our conv-gradient kernels — wasm is then ~140× faster than the pure-JS cpu backend for
 * the zoo's CNNs (docs/decisions.md). Single-threaded wasm is deterministic, so seeds reproduce.
 */
export async function initTrainingBackend(): Promise<TrainingBackend> {
  const info = await initTfjs();
  if (tf.getBackend() === 'wasm' || tf.findBackend('wasm')) registerWasmConvGradients();
  return { backend: info.backend, tfjsVersion: info.tfjsVersion };
}
