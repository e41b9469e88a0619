import { describe, expect, it } from 'vitest';
import { around, conservationConfig, modelInfo, selectivityConfig, synthetic } from '../test-utils/fixtures.js';
import { aggregateResults } from './build.js';

const N = 40;

function board(rows: Parameters<typeof synthetic>[1], configs = [selectivityConfig, conservationConfig]) {
  const { cells, samples } = synthetic('m', rows);
  const out = aggregateResults({ models: [modelInfo('m', N)], metricConfigs: configs, cells, samples, seed: 0 });
  return { ...out, board: out.leaderboards[0] };
}

const row = (b: ReturnType<typeof board>['board'], key: string) => b.rows.find((r) => r.cell === key)!;

describe('leaderboard', () => {
  it('ranks each column by its direction, and averages tied ranks', () => {
    const { board: b } = board([
      { key: 'a', method: 'lrp', abpc: around(0.5, N), error: around(0.3, N, 0.01) },
      { key: 'b', method: 'gradient', abpc: around(0.2, N), error: around(0.1, N, 0.01) },
      { key: 'c', method: 'occlusion', abpc: around(0.2, N), error: around(0.5, N, 0.01) },
    ]);
    expect(b.headline).toBe('selectivity.abpc');
    expect(row(b, 'a').values['selectivity.abpc'].rank).toBe(1);
    expect(row(b, 'b').values['selectivity.abpc'].rank).toBe(2.5);
    expect(row(b, 'c').values['selectivity.abpc'].rank).toBe(2.5);
    // Lower is better for the relative error.
    expect(row(b, 'b').values['conservation.relativeError'].rank).toBe(1);
    expect(row(b, 'c').values['conservation.relativeError'].rank).toBe(3);
    expect(row(b, 'a').meanRank).toBe(1.5);
    expect(row(b, 'b').meanRank).toBe(1.75);
    // Rows in mean-rank order.
    expect(b.rows.map((r) => r.cell)).toEqual(['a', 'b', 'c']);
  });

  it('reports the mean of the valid samples and a bootstrap CI around it', () => {
    const values = around(0.5, N, 0.2);
    const { board: b, cells } = board([{ key: 'a', method: 'lrp', abpc: values }]);
    const mean = values.reduce((s, v) => s + v, 0) / N;
    const v = row(b, 'a').values['selectivity.abpc'];
    expect(v.mean).toBeCloseTo(mean, 12);
    expect(v.ci95![0]).toBeLessThan(mean);
    expect(v.ci95![1]).toBeGreaterThan(mean);
    expect(v.n).toBe(N);
    // The cell's summary carries the same numbers as its leaderboard row.
    expect(cells[0].metrics[0].values.abpc).toEqual({ direction: 'higher', mean: v.mean, ci95: v.ci95, n: N });
  });

  it('gives a clear leader the rank interval [1, 1] and overlapping rows wide ones', () => {
    const { board: b } = board([
      { key: 'lead', method: 'lrp', abpc: around(0.9, N, 0.05) },
      { key: 'x', method: 'gradient', abpc: around(0.3, N, 0.5) },
      { key: 'y', method: 'occlusion', abpc: around(0.3, N, 0.5).map((v, i) => v + 0.01 * Math.cos(i * 3)) },
    ]);
    expect(row(b, 'lead').rankInterval).toEqual([1, 1]);
    const [lo, hi] = row(b, 'x').rankInterval!;
    expect(lo).toBeLessThanOrEqual(2);
    expect(hi).toBe(3);
  });

  it('flags rows whose headline CI is not above the uniform or the edge control\u2019s', () => {
    const { board: b } = board([
      { key: 'good', method: 'lrp', abpc: around(0.8, N, 0.05) },
      { key: 'edgy', method: 'gradient', abpc: around(0.42, N, 0.05) },
      { key: 'worse', method: 'smoothgrad', abpc: around(-0.3, N, 0.05) },
      { key: 'u', method: 'uniform', abpc: around(0, N, 0.05) },
      { key: 'e', method: 'edge', abpc: around(0.4, N, 0.05) },
    ]);
    expect(row(b, 'good').flags).toEqual([]);
    expect(row(b, 'edgy').flags).toEqual(['edge-detector']);
    // Clearly worse than the uniform control is not better than it either.
    expect(row(b, 'worse').flags).toEqual(['uninformative', 'edge-detector']);
    expect(row(b, 'u').flags).toContain('uninformative');
    expect(row(b, 'e').flags).toEqual(['edge-detector']);
  });

  it('keeps invalid cells out of every rank and mean, listing them last with their reason', () => {
    const { board: b } = board([
      { key: 'bad', method: 'lrp', status: 'invalid', abpc: [] },
      { key: 'a', method: 'gradient', abpc: around(0.2, N) },
      { key: 'c', method: 'occlusion', abpc: around(0.1, N) },
    ]);
    const bad = row(b, 'bad');
    expect(bad.values).toEqual({});
    expect(bad.meanRank).toBeNull();
    expect(bad.headlineRank).toBeNull();
    expect(bad.reason).toMatch(/NaN/);
    expect(b.rows.at(-1)!.cell).toBe('bad');
    expect(row(b, 'a').values['selectivity.abpc'].rank).toBe(1);
    expect(row(b, 'c').values['selectivity.abpc'].rank).toBe(2);
  });

  it('picks the best configuration of each family by the headline, ties by mean rank', () => {
    const { board: b } = board([
      { key: 'g0', method: 'lrp', family: 'lrp gamma', axes: { gamma: 0 }, abpc: around(0.3, N), error: around(0.5, N, 0.01) },
      { key: 'g1', method: 'lrp', family: 'lrp gamma', axes: { gamma: 0.25 }, abpc: around(0.6, N), error: around(0.4, N, 0.01) },
      { key: 'g2', method: 'lrp', family: 'lrp gamma', axes: { gamma: 1 }, abpc: around(0.6, N), error: around(0.2, N, 0.01) },
      { key: 'solo', method: 'gradient', abpc: around(0.1, N) },
    ]);
    expect(b.best).toEqual([{ family: 'lrp gamma', cell: 'g2', label: 'lrp gamma gamma=1', axes: { gamma: 1 }, headline: row(b, 'g2').values['selectivity.abpc'].mean }]);
  });

  it('measures agreement between metrics with Kendall τ of their rankings', () => {
    const same = board([
      { key: 'a', method: 'x', abpc: around(0.9, N), error: around(0.1, N, 0.01) },
      { key: 'b', method: 'y', abpc: around(0.5, N), error: around(0.5, N, 0.01) },
      { key: 'c', method: 'z', abpc: around(0.1, N), error: around(0.9, N, 0.01) },
    ]).board;
    expect(same.agreement.columns).toEqual(['selectivity.abpc', 'conservation.relativeError']);
    expect(same.agreement.tau).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const reversed = board([
      { key: 'a', method: 'x', abpc: around(0.9, N), error: around(0.9, N, 0.01) },
      { key: 'b', method: 'y', abpc: around(0.5, N), error: around(0.5, N, 0.01) },
      { key: 'c', method: 'z', abpc: around(0.1, N), error: around(0.1, N, 0.01) },
    ]).board;
    expect(reversed.agreement.tau[0][1]).toBe(-1);
  });

  it('is deterministic and independent of the cells\u2019 order in the input', () => {
    const rows = [
      { key: 'a', method: 'x', abpc: around(0.9, N, 0.4) },
      { key: 'b', method: 'y', abpc: around(0.7, N, 0.4) },
    ];
    const one = board(rows).board;
    const two = board([...rows].reverse()).board;
    expect(two.rows.find((r) => r.cell === 'a')).toEqual(one.rows.find((r) => r.cell === 'a'));
    expect(two.rows.find((r) => r.cell === 'b')).toEqual(one.rows.find((r) => r.cell === 'b'));
  });
});
