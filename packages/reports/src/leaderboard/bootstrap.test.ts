import { describe, expect, it } from 'vitest';
import { bootstrapCi } from '@blameboard/metrics';
import { around } from '../test-utils/fixtures.js';
import { pairedIndices, percentileInterval, resampleMeans } from './bootstrap.js';

describe('paired bootstrap', () => {
  it('gives the metrics package\u2019s own bootstrap interval for a column without gaps (same draws, same quantiles)', () => {
    const values = around(0.4, 37, 0.3);
    const ours = percentileInterval(resampleMeans(values, pairedIndices(values.length, 7)));
    expect(ours).toEqual(bootstrapCi(values, { seed: 7 }));
  });

  it('draws the same samples for every row, so a constant shift moves the interval by exactly that shift', () => {
    const table = pairedIndices(20, 3);
    const a = around(0.2, 20, 0.5);
    const b = a.map((v) => v + 1);
    const ma = resampleMeans(a, table);
    const mb = resampleMeans(b, table);
    for (let i = 0; i < ma.length; i++) expect(mb[i] - ma[i]).toBeCloseTo(1, 12);
  });

  it('leaves invalid samples out of each resample mean', () => {
    const table = pairedIndices(4, 0);
    const means = resampleMeans([1, null, 1, null], table);
    for (const m of means) expect(Number.isNaN(m) || m === 1).toBe(true);
    expect(percentileInterval(means)).toEqual([1, 1]);
  });
});
