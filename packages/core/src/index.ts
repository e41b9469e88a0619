export * from './tensor.js';
export * from './rng.js';
export * from './errors.js';
export { allFinite } from './finite.js';
export * from './files.js';
export * from './params.js';
export * from './json.js';
export type * from './ir/types.js';
export type * from './model.js';
export type * from './compiler/types.js';
export { readOnnx, loadOnnxFile, prepareGraph, type ReadOptions } from './onnx/read.js';
export { writeOnnx } from './onnx/write.js';
export { inferShapes, UNKNOWN_DIM } from './ir/shape-inference.js';
export { foldConstants } from './ir/fold-constants.js';
export { SUPPORTED_OPS, unsupportedOps } from './ir/support.js';
export { OnnxSession, cachedSession, disposeSessions, defaultThreads, MAX_CACHED_SESSIONS, type SessionOptions } from './runtime/session.js';
export { forward, targetOutputs, forwardRows, forwardBatchSize, type ForwardOptions, type ForwardStream, type OutputKind } from './runtime/forward.js';
export { modelKey, logitSession, logitGraph, logitCost } from './runtime/logit-graph.js';
export { runRows, streamRows, runAll, rowsPerRun, sessionGraph, type RowBudget, type RowGraph, type RowSession, type RowsRun, type RowStream, type RowInput } from './runtime/rows.js';
export { ParallelSession, decide, machineFingerprint, parallelSetting, PARALLEL_ENV, STEADY_SAMPLES, WHOLE_RUN_SAMPLES, MIN_ROWS_PER_WORKER, type ChoiceStore, type ModeChoice, type RunMode, type RunOptions, type RunSample } from './runtime/parallel.js';
export { WorkerSessionPool, cachedPool, disposePools, MAX_CACHED_POOLS } from './runtime/worker-pool.js';
export { softmaxRows, softmaxInto, softmaxAt } from './runtime/softmax.js';
export {
  defaultMemoryBudget,
  defaultBatchSize,
  memoryNeeded,
  machineMemory,
  parseMemory,
  formatBytes,
  rowBytesOf,
  weightBytes,
  MEMORY_ENV,
  DEFAULT_MEMORY_SHARE,
  MAX_DEFAULT_BATCH,
  MAX_FIXED_BATCH,
  MIN_DEFAULT_BATCH,
  TARGET_RUN_BYTES,
  WEIGHT_COPIES,
  type GraphCost,
} from './runtime/memory.js';
export { toOrt, fromOrt } from './runtime/convert.js';
export { onnxruntimeVersion } from './runtime/version.js';
export { disableOnnxruntimeTelemetry } from './runtime/telemetry.js';
export { loadModel, tfjsModelJson, validateInputs, validateTargets, type ModelSource } from './load-model.js';
export { foldBatchNorm, BATCH_NORM_MERGES, type BatchNormMerge } from './ir/fold-batchnorm.js';
export { compileExplanation } from './compiler/compile.js';
export { IrGraphBuilder, type RegisteredOutput } from './compiler/builder.js';
export { dependentsOf, dependenciesOf, nodesBetween, linearLayers } from './compiler/graph-walk.js';
export { upgradeOpset, cloneGraph, COMPILED_MIN_OPSET } from './ir/upgrade-opset.js';
export { readNpy, writeNpy, npyParts, loadNpy, saveNpy } from './npy.js';
export { readNpz, loadNpz, npzArrayNames } from './npz.js';
