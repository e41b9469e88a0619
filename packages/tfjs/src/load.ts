import { isBlameboardError, loadModel, ModelLoadError, tfjsModelJson, writeOnnx, type LoadedModel } from '@blameboard/core';
import { importLayersModel } from './import-layers.js';

/**
 * Loads a tfjs LayersModel — a `model.json` with its weight shards, or the folder holding them —
 * as a LoadedModel: converted to ONNX by `importLayersModel`, then loaded by core's `loadModel`
 * like any ONNX file (trailing Softmax stripped, onnxruntime session opened once).
 */
export async function loadTfjsModel(source: string): Promise<LoadedModel> {
  const modelJson = tfjsModelJson(source) ?? source;
  let bytes: Uint8Array;
  try {
    bytes = writeOnnx(await importLayersModel(modelJson));
  } catch (e) {
    if (isBlameboardError(e)) throw e;
    throw new ModelLoadError(`cannot import tfjs model '${modelJson}': ${String(e instanceof Error ? e.message : e).split('\n')[0]}`, { cause: e });
  }
  return loadModel({ bytes, id: source, file: source });
}
