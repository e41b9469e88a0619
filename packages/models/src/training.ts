// Training the zoo with TensorFlow.js: a separate entry point, so that loading the zoo loads no tfjs.
export { trainZoo, pairDifference, AGREEMENT_TOLERANCE, CHECK_SAMPLES, type TrainZooOptions } from './train-zoo.js';
export { architectures, getArchitecture, type Architecture, type TrainedId } from './architectures.js';
export { predict, trainModel, type TrainingData, type TrainResult } from './train.js';
