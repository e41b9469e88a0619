import { sizeOf } from '@blameboard/core';

/**
 * The shape whose geometry spatial operations (blur, region grid, translation) follow for one
 * sample: the data's `imageShape` when it has the sample's element count — so a model fed
 * flattened images ([N, 784]) is still perturbed as the [1, 28, 28] image its features came
 * from — else the sample shape itself. Both shapes index the same C-order bytes, so only the
 * neighbourhoods change, never which value is where.
 */
export function geometryShape(sampleShape: readonly number[], imageShape?: readonly number[]): readonly number[] {
  if (!imageShape || imageShape.length === 0) return sampleShape;
  if (!imageShape.every((s) => Number.isInteger(s) && s > 0)) return sampleShape;
  return sizeOf(imageShape) === sizeOf(sampleShape) ? imageShape : sampleShape;
}
