import { Rng, UsageError } from '@blameboard/core';

/**
 * Which of `total` samples to take. Without a seed: the first `count` (what "the first 1000 test
 * images" means to a user). With a seed: a seeded draw without replacement, sorted so that the
 * selection reads in file order.
 */
export function selectIndices(total: number, count: number | undefined, seed: number | undefined): Int32Array {
  const n = checkCount(count, total);
  if (seed === undefined || n === total) return Int32Array.from({ length: n }, (_, i) => i);
  const picked = new Rng(seed).sample(total, n).sort((a, b) => a - b);
  return Int32Array.from(picked);
}

export function checkCount(count: number | undefined, max: number): number {
  if (count === undefined) return max;
  if (!Number.isInteger(count) || count < 1 || count > max) {
    throw new UsageError(`count must be an integer in [1, ${max}], got ${count}`);
  }
  return count;
}
