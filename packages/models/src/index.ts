export * from './types.js';
export { zoo, zooIds, getZooEntry, resolveModel, equivalentPairs, readCard, ZOO_DIR } from './zoo.js';
export { trainZoo, pairDifference, AGREEMENT_TOLERANCE, CHECK_SAMPLES, type TrainZooOptions } from './train-zoo.js';
export { architectures, getArchitecture, type Architecture, type TrainedId } from './architectures.js';
export { layersToIr, EXPORT_OPSET } from './export/layers-to-ir.js';
export { rescaledTwin, splitChannelTwin } from './twins.js';
export { describeGraph, parameterCount, sha256 } from './card.js';
export { accuracy, r2, runOnnx, maxAbsDifference } from './check.js';
export { initTrainingBackend, type TrainingBackend } from './tfjs/backend.js';
export { registerWasmConvGradients } from './tfjs/wasm-conv-kernels.js';
export {
  IMAGENET_ARCHITECTURES,
  imagenetGraph,
  imagenetOnnx,
  imagenetModel,
  resnet50,
  efficientnetB0,
  mobilenetV2,
  type ImagenetArchitecture,
  type ImagenetOptions,
} from './imagenet/index.js';
