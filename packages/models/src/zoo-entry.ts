/**
 * `@blameboard/models/zoo`: the zoo's models and cards without the training code, so that
 * resolving a zoo model (the CLI's explain, evaluate, predict) never loads TensorFlow.js —
 * importing it took 260–330 ms of a process whose ONNX work never uses it.
 */
export type * from './types.js';
export { zoo, zooIds, getZooEntry, resolveModel, equivalentPairs, readCard, ZOO_DIR } from './zoo.js';
