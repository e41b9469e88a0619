import { float32 } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from './aggregate.js';

describe('aggregate', () => {
  it('averages the finite values and nulls and lists the others', () => {
    const invalid = new InvalidSamples();
    const v = aggregate('abpc', [1, NaN, 3, Infinity], 'higher', { seed: 0, invalid });
    expect(v.mean).toBe(2);
    expect(v.perSample).toEqual([1, null, 3, null]);
    expect(v.direction).toBe('higher');
    expect(invalid.list()).toEqual([
      { index: 1, reason: 'abpc is NaN' },
      { index: 3, reason: 'abpc is Infinity' },
    ]);
    expect(v.ci95![0]).toBeGreaterThanOrEqual(1);
    expect(v.ci95![1]).toBeLessThanOrEqual(3);
  });

  it('keeps already-invalid and skipped samples out without new reasons', () => {
    const invalid = new InvalidSamples();
    invalid.mark(0, 'attribution has 1 NaN value');
    const v = aggregate('x', [5, 1, 2], 'lower', { seed: 0, invalid, skip: new Set([2]) });
    expect(v.perSample).toEqual([null, 1, null]);
    expect(v.mean).toBe(1);
    expect(invalid.list()).toEqual([{ index: 0, reason: 'attribution has 1 NaN value' }]);
  });

  it('has a null mean and interval when nothing is valid', () => {
    const v = aggregate('x', [NaN], 'lower', { seed: 0, invalid: new InvalidSamples() });
    expect(v.mean).toBeNull();
    expect(v.ci95).toBeNull();
  });

  it('finds the samples with non-finite attributions', () => {
    const invalid = new InvalidSamples();
    markNonFiniteAttributions(float32([3, 2], [1, 2, NaN, 0, Infinity, NaN]), invalid);
    expect(invalid.list()).toEqual([
      { index: 1, reason: 'attribution has 1 NaN value' },
      { index: 2, reason: 'attribution has 1 NaN and 1 Inf values' },
    ]);
  });
});
