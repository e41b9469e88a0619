import * as tfl from '@tensorflow/tfjs-layers';

export type TrainedId = 'mnist-mlp' | 'mnist-cnn' | 'mnist-bn-cnn' | 'synthetic-mlp';

/** A zoo model that is trained: its tfjs definition and how it is trained. */
export interface Architecture {
  id: TrainedId;
  description: string;
  dataset: 'mnist' | 'synthetic-linear';
  task: 'classification' | 'regression';
  /** Per-sample training input shape (tfjs, channels last). */
  trainShape: number[];
  /** Per-sample ONNX input shape (NCHW for images, like a PyTorch export). */
  onnxShape: number[];
  /** Spec floor on test accuracy (classification) or R² (regression). */
  floor: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** The last this many epochs run at learningRate / 10 (a step decay settles the weights). */
  decayEpochs?: number;
  /** Training samples (default: the whole train split). */
  trainCount?: number;
  seed: number;
  build(seed: number): tfl.LayersModel;
}

// Every initializer gets its own seed so a model is the same on every run.
const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });
const he = (seed: number) => tfl.initializers.heNormal({ seed });

function conv(seed: number, filters: number, kernelSize: number, opts: { relu?: boolean; same?: boolean; name: string }) {
  return tfl.layers.conv2d({
    name: opts.name,
    filters,
    kernelSize,
    padding: opts.same ? 'same' : 'valid',
    activation: opts.relu ? 'relu' : 'linear',
    kernelInitializer: he(seed),
  });
}

function dense(seed: number, units: number, opts: { relu?: boolean; name: string; inputShape?: number[] }) {
  return tfl.layers.dense({
    name: opts.name,
    units,
    inputShape: opts.inputShape,
    activation: opts.relu ? 'relu' : 'linear',
    kernelInitializer: opts.relu ? he(seed) : glorot(seed),
  });
}

const mnistMlp: Architecture = {
  id: 'mnist-mlp',
  description: 'MLP 784-128-64-10 with ReLU on MNIST (flattened input)',
  dataset: 'mnist',
  task: 'classification',
  trainShape: [784],
  onnxShape: [784],
  floor: 0.97,
  epochs: 8,
  batchSize: 64,
  learningRate: 1e-3,
  decayEpochs: 2,
  seed: 1,
  build(seed) {
    return tfl.sequential({
      name: 'mnist_mlp',
      layers: [
        dense(seed + 1, 128, { relu: true, name: 'fc1', inputShape: [784] }),
        dense(seed + 2, 64, { relu: true, name: 'fc2' }),
        dense(seed + 3, 10, { name: 'fc3' }),
      ],
    });
  },
};

const mnistCnn: Architecture = {
  id: 'mnist-cnn',
  description: 'LeNet-style CNN: (conv5×5-ReLU-maxpool2) ×2 with 16 and 32 channels, dense 64-ReLU, dense 10',
  dataset: 'mnist',
  task: 'classification',
  trainShape: [28, 28, 1],
  onnxShape: [1, 28, 28],
  floor: 0.985,
  epochs: 6,
  batchSize: 64,
  learningRate: 1e-3,
  decayEpochs: 2,
  seed: 2,
  build(seed) {
    return tfl.sequential({
      name: 'mnist_cnn',
      layers: [
        tfl.layers.inputLayer({ inputShape: [28, 28, 1], name: 'input' }),
        conv(seed + 1, 16, 5, { relu: true, name: 'conv1' }),
        tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }),
        conv(seed + 2, 32, 5, { relu: true, name: 'conv2' }),
        tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }),
        tfl.layers.flatten({ name: 'flatten' }),
        dense(seed + 3, 64, { relu: true, name: 'fc1' }),
        dense(seed + 4, 10, { name: 'fc2' }),
      ],
    });
  },
};

const mnistBnCnn: Architecture = {
  id: 'mnist-bn-cnn',
  description:
    'CNN with BatchNormalization and a residual block: conv5×5(8)-BN-ReLU-avgpool2, [conv3×3-BN-ReLU-conv3×3-BN] + skip, ReLU, avgpool2, dense 10',
  dataset: 'mnist',
  task: 'classification',
  trainShape: [28, 28, 1],
  onnxShape: [1, 28, 28],
  floor: 0.98,
  epochs: 6,
  batchSize: 64,
  learningRate: 1e-3,
  seed: 3,
  build(seed) {
    const input = tfl.input({ shape: [28, 28, 1], name: 'input' });
    const bn = (name: string) => tfl.layers.batchNormalization({ name, axis: -1 });
    let h = conv(seed + 1, 8, 5, { name: 'conv1' }).apply(input) as tfl.SymbolicTensor;
    h = bn('bn1').apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ name: 'relu1' }).apply(h) as tfl.SymbolicTensor;
    const skip = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, name: 'pool1' }).apply(h) as tfl.SymbolicTensor;
    let r = conv(seed + 2, 8, 3, { same: true, name: 'conv2' }).apply(skip) as tfl.SymbolicTensor;
    r = bn('bn2').apply(r) as tfl.SymbolicTensor;
    r = tfl.layers.reLU({ name: 'relu2' }).apply(r) as tfl.SymbolicTensor;
    r = conv(seed + 3, 8, 3, { same: true, name: 'conv3' }).apply(r) as tfl.SymbolicTensor;
    r = bn('bn3').apply(r) as tfl.SymbolicTensor;
    h = tfl.layers.add({ name: 'residual' }).apply([r, skip]) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ name: 'relu3' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, name: 'pool2' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.flatten({ name: 'flatten' }).apply(h) as tfl.SymbolicTensor;
    const out = dense(seed + 4, 10, { name: 'fc' }).apply(h) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: out, name: 'mnist_bn_cnn' });
  },
};

const syntheticMlp: Architecture = {
  id: 'synthetic-mlp',
  description: 'MLP 96-64-32-1 with ReLU, regression on synthetic-linear (seed 003)',
  dataset: 'synthetic-linear',
  task: 'regression',
  trainShape: [96],
  onnxShape: [96],
  floor: 0.99,
  epochs: 40,
  batchSize: 64,
  learningRate: 1e-3,
  trainCount: 10_000,
  seed: 4,
  build(seed) {
    return tfl.sequential({
      name: 'synthetic_mlp',
      layers: [
        dense(seed + 1, 64, { relu: true, name: 'fc1', inputShape: [96] }),
        dense(seed + 2, 32, { relu: true, name: 'fc2' }),
        dense(seed + 3, 1, { name: 'fc3' }),
      ],
    });
  },
};

export const architectures: Architecture[] = [mnistMlp, mnistCnn, mnistBnCnn, syntheticMlp];

export function getArchitecture(id: string): Architecture | undefined {
  return architectures.find((a) => a.id === id);
}
