import type { Tensor } from '@blameboard/core';
import { sizeOf } from '@blameboard/core';
import { bootstrapCi } from './bootstrap.js';
import type { Direction, MetricValue } from './types.js';

export interface InvalidSample {
  index: number;
  reason: string;
}

/**
 * Samples excluded from every aggregate of one metric run, with the first reason found.
 * NaN/Inf must never be averaged in (SPEC §9), so a bad sample is recorded, not dropped silently.
 */
export class InvalidSamples {
  private readonly reasons = new Map<number, string>();

  mark(index: number, reason: string): void {
    if (!this.reasons.has(index)) this.reasons.set(index, reason);
  }

  has(index: number): boolean {
    return this.reasons.has(index);
  }

  list(): InvalidSample[] {
    return [...this.reasons.entries()].sort((a, b) => a[0] - b[0]).map(([index, reason]) => ({ index, reason }));
  }
}

export interface AggregateOptions {
  seed: number;
  invalid: InvalidSamples;
  /** Samples the value does not apply to (null, but not invalid), e.g. correctly classified ones. */
  skip?: ReadonlySet<number>;
}

/**
 * Per-sample values → the reported value. A non-finite value becomes null and its sample is
 * listed as invalid (`name` says which value broke); invalid and skipped samples stay out of the
 * mean and the bootstrap interval.
 */
export function aggregate(
  name: string,
  values: ArrayLike<number>,
  direction: Direction,
  opts: AggregateOptions,
): MetricValue {
  const perSample: (number | null)[] = [];
  const valid: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (opts.skip?.has(i) || opts.invalid.has(i)) {
      perSample.push(null);
    } else if (!Number.isFinite(v)) {
      opts.invalid.mark(i, `${name} is ${describeNonFinite(v)}`);
      perSample.push(null);
    } else {
      perSample.push(v);
      valid.push(v);
    }
  }
  const mean = valid.length ? valid.reduce((s, v) => s + v, 0) / valid.length : null;
  return { direction, mean, ci95: bootstrapCi(valid, { seed: opts.seed }), perSample };
}

function describeNonFinite(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

/** Marks samples whose attribution holds NaN/Inf: a method failed there, so no metric may score it. */
export function markNonFiniteAttributions(attributions: Tensor, invalid: InvalidSamples, what = 'attribution'): void {
  const n = attributions.shape[0];
  const d = sizeOf(attributions.shape.slice(1));
  const data = attributions.data as Float32Array;
  for (let s = 0; s < n; s++) {
    let nan = 0;
    let inf = 0;
    for (let i = s * d; i < (s + 1) * d; i++) {
      const v = data[i];
      if (Number.isNaN(v)) nan++;
      else if (!Number.isFinite(v)) inf++;
    }
    if (nan || inf) {
      const parts = [nan ? `${nan} NaN` : '', inf ? `${inf} Inf` : ''].filter(Boolean).join(' and ');
      invalid.mark(s, `${what} has ${parts} value${nan + inf > 1 ? 's' : ''}`);
    }
  }
}
