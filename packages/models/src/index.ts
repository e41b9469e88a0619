// The zoo entry point loads no tfjs: training lives in '@blameboard/models/training'.
export * from './types.js';
export { zoo, zooIds, getZooEntry, resolveModel, equivalentPairs, readCard, ZOO_DIR } from './zoo.js';
export { rescaledTwin, splitChannelTwin } from './twins.js';
export { describeGraph, parameterCount, sha256 } from './card.js';
export { accuracy, r2, runOnnx, maxAbsDifference } from './check.js';
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
