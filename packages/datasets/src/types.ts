import type { Tensor } from '@blameboard/core';

export type Split = 'train' | 'test';
export type Layout = 'nchw' | 'flat';

export interface DatasetInfo {
  id: string;
  description: string;
  /** Per-sample input shape in the default layout, e.g. [1, 28, 28] or [96]. */
  inputShape: number[];
  kind: 'classification' | 'regression';
  /** Range every input value lies in. */
  range: [number, number];
  /** Number of classes (classification) or outputs (regression). */
  outputSize: number;
  /** Samples available per split (generated sets can make any number; this is the default count). */
  sizes: Record<Split, number>;
}

export interface LoadOptions {
  split?: Split;
  /** How many samples (default: the whole split). */
  count?: number;
  /**
   * Seed of the sample selection (MNIST: which images; generated sets: the values). MNIST
   * without a seed takes the first `count` images in file order.
   */
  seed?: number;
  /** Image sets only: 'nchw' [N,1,28,28] (default) or 'flat' [N,784]. */
  layout?: Layout;
}

export interface Dataset {
  id: string;
  split: Split;
  /** [N, …] float32. */
  inputs: Tensor;
  /** Class index per sample (classification) or the target value (regression). */
  labels: Int32Array | Float32Array;
  /** synthetic-linear: the 96 true coefficients of the target. */
  groundTruth?: Float32Array;
  /** Per-feature mean of the training distribution, per-sample shape in the inputs' layout. */
  mean: Tensor;
  range: [number, number];
  /** MNIST: the file positions of the selected samples (provenance). */
  indices?: Int32Array;
}
