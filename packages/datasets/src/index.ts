export * from './types.js';
export * from './idx.js';
export { selectIndices } from './select.js';
export { loadMnist, mnistInfo, decodeMnist, mnistDataDir } from './mnist.js';
export { loadSyntheticLinear, syntheticLinearInfo, syntheticLinearCoefficients } from './synthetic-linear.js';
export { loadEquivalence2d, equivalence2dInfo, equivalenceTarget } from './equivalence-2d.js';
export { datasets, getDatasetInfo, loadDataset } from './registry.js';
