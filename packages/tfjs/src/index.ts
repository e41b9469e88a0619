export { initTfjs, getTf, ensureBackend, TFJS_BACKEND_ENV, type Tf, type TfjsInfo, type TfjsBackendName } from './backend.js';
export { initTrainingBackend, type TrainingBackend } from './training-backend.js';
export { patchWasmKernels } from './wasm-kernels.js';
export { registerWasmConvGradients } from './wasm-conv-kernels.js';
export { tfForward, tfUnsupportedOps, TF_SUPPORTED_OPS } from './forward.js';
export { tfGradient } from './gradient.js';
export { importLayersModel, convertLayersModel, EXPORT_OPSET, type ConvertOptions } from './import-layers.js';
export { loadTfjsModel } from './load.js';
export { fileLoadHandler, fileSaveHandler } from './layers-io.js';
