import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../errors.js';
import type { Tf } from './backend.js';

/**
 * File-system IO handlers for tfjs LayersModels (`model.json` + weight shards). tfjs ships them
 * only in tfjs-node (`tf.io.fileSystem`), which is an optional dependency here.
 */

/** Loads `model.json` and the shards its manifest lists; shard paths must stay inside its folder. */
export function fileLoadHandler(tf: Tf, modelJsonPath: string): TfCore.io.IOHandler {
  return {
    load: async () => {
      let json: TfCore.io.ModelJSON;
      try {
        json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as TfCore.io.ModelJSON;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ModelLoadError(`cannot read tfjs model '${modelJsonPath}': ${code ?? (e as Error).message}`);
      }
      if (!json || typeof json !== 'object' || !json.modelTopology) {
        throw new ModelLoadError(`'${modelJsonPath}' is not a tfjs model.json (no modelTopology)`);
      }
      const folder = dirname(resolve(modelJsonPath));
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: TfCore.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) buffers.push(readShard(folder, p, modelJsonPath));
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

function readShard(folder: string, path: string, modelJsonPath: string): ArrayBuffer {
  const file = resolve(folder, path);
  const rel = relative(folder, file);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel)) {
    throw new ModelLoadError(`weight shard '${path}' of '${modelJsonPath}' lies outside the model's folder (refused)`);
  }
  try {
    const bytes = readFileSync(file);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (e) {
    throw new ModelLoadError(`cannot read weight shard '${path}' of '${modelJsonPath}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/**
 * Saves a LayersModel as `<dir>/model.json` + `<dir>/weights.bin` (one shard), each written to a
 * temp file first and renamed, so a reader never sees half a model.
 */
export function fileSaveHandler(tf: Tf, dir: string): TfCore.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    mkdirSync(dir, { recursive: true });
    const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
    const manifest: TfCore.io.WeightsManifestConfig = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
    const json = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: manifest,
    };
    atomicWrite(join(dir, 'weights.bin'), new Uint8Array(weightData));
    atomicWrite(join(dir, 'model.json'), JSON.stringify(json));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weightData.byteLength,
      },
    };
  });
}

function atomicWrite(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
