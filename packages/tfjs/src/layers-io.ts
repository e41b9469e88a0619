import { mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import { ModelLoadError, parseJsonText, readRegularFile } from '@blameboard/core';
import type { Tf } from './backend.js';

/**
 * File-system IO handlers for tfjs LayersModels (`model.json` + weight shards). tfjs ships them
 * only in tfjs-node (`tf.io.fileSystem`), which is an optional dependency here.
 */

/** Loads `model.json` and the shards its manifest lists; shard paths must stay inside its folder. */
export function fileLoadHandler(tf: Tf, modelJsonPath: string): TfCore.io.IOHandler {
  return {
    load: async () => {
      const text = new TextDecoder().decode(readRegularFile(modelJsonPath, (why) => new ModelLoadError(`cannot read tfjs model '${modelJsonPath}': ${why}`), MAX_MODEL_JSON_BYTES));
      let json: TfCore.io.ModelJSON;
      try {
        json = parseJsonText(text, `tfjs model '${modelJsonPath}'`) as TfCore.io.ModelJSON;
      } catch (e) {
        throw new ModelLoadError((e as Error).message);
      }
      if (!json || typeof json !== 'object' || !json.modelTopology) {
        throw new ModelLoadError(`'${modelJsonPath}' is not a tfjs model.json (no modelTopology)`);
      }
      // Without a manifest tfjs would build the model with fresh random weights: a model that
      // predicts, explains and is wrong. A model.json without weights is refused.
      const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
      if (!Array.isArray(manifest) || manifest.length === 0) {
        throw new ModelLoadError(`'${modelJsonPath}' lists no weights (weightsManifest is ${JSON.stringify(manifest) ?? 'missing'}): refused rather than run with random weights`);
      }
      const folder = realFolder(modelJsonPath);
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

/** The largest model.json read (its topology; weights are in shards). */
const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

function realFolder(modelJsonPath: string): string {
  try {
    return realpathSync(dirname(resolve(modelJsonPath)));
  } catch (e) {
    throw new ModelLoadError(`cannot read tfjs model '${modelJsonPath}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

function inside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * A shard must be a regular file inside the model's folder — checked on the path as written and
 * again after resolving symlinks, so a link to a file elsewhere is refused like `../x` is.
 */
function readShard(folder: string, path: string, modelJsonPath: string): ArrayBuffer {
  const outside = () => new ModelLoadError(`weight shard '${path}' of '${modelJsonPath}' lies outside the model's folder (refused)`);
  if (typeof path !== 'string' || isAbsolute(path) || path.includes('\0')) throw outside();
  const file = resolve(folder, path);
  if (!inside(folder, file)) throw outside();
  let real: string;
  try {
    real = realpathSync(file);
  } catch (e) {
    throw new ModelLoadError(`cannot read weight shard '${path}' of '${modelJsonPath}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (!inside(folder, real)) throw outside();
  const bytes = readRegularFile(real, (why) => new ModelLoadError(`cannot read weight shard '${path}' of '${modelJsonPath}': ${why}`));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
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
