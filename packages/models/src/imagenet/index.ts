import { loadModel, writeOnnx, UsageError, type IrGraph, type LoadedModel } from '@blameboard/core';
import { efficientnetB0 } from './efficientnet.js';
import { mobilenetV2 } from './mobilenet.js';
import { resnet50, type ImagenetOptions } from './resnet.js';

export type { ImagenetOptions } from './resnet.js';
export { resnet50 } from './resnet.js';
export { efficientnetB0 } from './efficientnet.js';
export { mobilenetV2 } from './mobilenet.js';

/** The ImageNet-scale architectures built at run time from seeded random weights (nothing committed). */
export const IMAGENET_ARCHITECTURES = {
  resnet50,
  efficientnet_b0: efficientnetB0,
  mobilenet_v2: mobilenetV2,
} as const satisfies Record<string, (opts?: ImagenetOptions) => IrGraph>;

export type ImagenetArchitecture = keyof typeof IMAGENET_ARCHITECTURES;

export function imagenetGraph(id: string, opts: ImagenetOptions = {}): IrGraph {
  const build = (IMAGENET_ARCHITECTURES as Record<string, (o?: ImagenetOptions) => IrGraph>)[id];
  if (!build) throw new UsageError(`unknown ImageNet architecture '${id}'; known: ${Object.keys(IMAGENET_ARCHITECTURES).join(', ')}`);
  return build(opts);
}

/** The architecture as ONNX bytes, written with the project's IR writer. */
export function imagenetOnnx(id: string, opts: ImagenetOptions = {}): Uint8Array {
  return writeOnnx(imagenetGraph(id, opts));
}

/** The architecture loaded as users' models are (through `loadModel`), id e.g. `resnet50@224`. */
export function imagenetModel(id: string, opts: ImagenetOptions = {}): Promise<LoadedModel> {
  return loadModel({ bytes: imagenetOnnx(id, opts), id: `${id}@${opts.size ?? 224}` });
}
