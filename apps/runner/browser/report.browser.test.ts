import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeSessions } from '@blameboard/core';
import { fmt, type ResultsDocument } from '@blameboard/reports';
import { runCli, writeOverflowModel } from '../src/test-utils.js';
import { inspectReport, type ReportInspection } from './inspect-report.js';

const XSS = '<img src=x onerror=alert(1)>';
let results: ResultsDocument;
let page: ReportInspection;

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'bb-browser-'));
  writeOverflowModel(base, 12);
  writeFileSync(
    join(base, 'sweep.json'),
    JSON.stringify({
      name: `report of ${XSS}`,
      samples: 12,
      models: ['mnist-mlp', { path: 'overflow.onnx', inputs: 'x.npy', name: XSS }],
      methods: [
        { method: 'gradient', params: { abs: [false, true] } },
        { method: 'integrated-gradients', params: { steps: 4, baseline: ['zero', 3e38] } },
        { method: 'lrp', label: `lrp "ε" <b>grid</b>`, params: { composite: 'epsilon', epsilon: [1e-6, 0.1, 1] } },
        { method: 'uniform' },
        { method: 'edge' },
      ],
      metrics: [{ metric: 'selectivity', params: { steps: 4, fill: ['uniform', 'zero'] } }, { metric: 'conservation' }, { metric: 'sparseness' }],
    }),
  );
  const out = join(base, 'out');
  const run = await runCli('sweep', '--config', join(base, 'sweep.json'), '--out', out);
  expect(run.code, run.stderr).toBe(0);
  results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  page = await inspectReport(join(out, 'index.html'), { screenshot: join(out, 'index.png') });
});

afterAll(() => disposeSessions());

describe('the HTML report in Chromium', () => {
  it('loads without console errors, network requests or dialogs', () => {
    expect(page.consoleErrors).toEqual([]);
    expect(page.requests).toEqual([]);
    // An unescaped model name would have run its onerror handler.
    expect(page.dialogs).toEqual([]);
  });

  it('shows user strings as text', () => {
    expect(page.leaderboards.map((b) => b.heading)).toEqual(['mnist-mlp', XSS]);
    expect(page.leaderboards[0].rows.map((r) => r.label)).toContain('lrp "ε" <b>grid</b> epsilon=0.1');
  });

  it('shows every configuration row with the numbers of results.json', () => {
    for (const [i, board] of results.leaderboards.entries()) {
      const rendered = page.leaderboards[i];
      expect(rendered.rows.map((r) => r.cell)).toEqual(board.rows.map((r) => r.cell));
      for (const row of board.rows) {
        const shown = rendered.rows.find((r) => r.cell === row.cell)!;
        const primary = board.columns.filter((c) => c.primary).filter((c) => row.values[c.id]);
        expect(shown.values.map((v) => v.column)).toEqual(primary.map((c) => c.id));
        for (const v of shown.values) {
          const want = row.values[v.column];
          expect(v.value).toBe(want.mean);
          expect(v.ci).toEqual(want.ci95);
          expect(v.rank).toBe(want.rank);
          expect(v.text).toBe(fmt(want.mean));
        }
      }
    }
    expect(results.cells.filter((c) => c.status === 'invalid').map((c) => [c.model, c.label])).toContainEqual([XSS, 'integrated-gradients steps=4 baseline=3e+38']);
    // Per model: the inputs strip and one strip per heatmap row.
    expect(page.images).toBeGreaterThanOrEqual(4);
  });

  it('reorders the rows when a column header is clicked, and reverses them on a second click', () => {
    const sort = page.sort!;
    expect(sort.column).toBe('selectivity[fill=uniform].abpc');
    expect(sort.after).not.toEqual(sort.before);
    expect(sort.afterKeys.length).toBeGreaterThan(3);
    expect(sort.afterKeys).toEqual([...sort.afterKeys].sort((a, b) => a - b));
    expect(sort.reversedKeys).toEqual([...sort.afterKeys].sort((a, b) => b - a));
  });
});
