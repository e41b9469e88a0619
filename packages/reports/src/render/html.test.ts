import { describe, expect, it } from 'vitest';
import { float32 } from '@blameboard/core';
import { resultsDocument } from '../test-utils/fixtures.js';
import { fmt } from './format.js';
import { renderHtml } from './html.js';

const XSS = '<img src=x onerror=alert(1)>';

describe('renderHtml', () => {
  it('is one self-contained page: no URL outside the page, and a policy that forbids fetching', () => {
    const { results } = resultsDocument();
    const html = renderHtml(results, { heatmaps: [{ model: 'm', inputs: float32([2, 1, 2, 2], [0, 1, 1, 0, 1, 0, 0, 1]), rows: [{ cell: 'k-grad', label: 'gradient', attributions: float32([2, 1, 2, 2], [1, -1, 0, 2, 0, 0, 1, 1]) }] }] });
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;`);
    for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^(data:image\/png;base64,|#)/);
    expect(html).not.toMatch(/<link|@import|url\(/);
    expect(html).toContain('<img alt="gradient" height="24" src="data:image/png;base64,');
  });

  it('renders every row with the numbers of the leaderboard', () => {
    const { results } = resultsDocument();
    const html = renderHtml(results);
    for (const row of results.leaderboards[0].rows) {
      const tr = new RegExp(`<tr data-cell="${row.cell}"[^>]*>(.*?)</tr>`).exec(html)?.[1];
      expect(tr, row.cell).toBeDefined();
      const v = row.values['selectivity.abpc'];
      if (v) expect(tr).toContain(`data-value="${v.mean}" data-ci="${v.ci95!.join(',')}" data-rank="${v.rank}"><span class="v">${fmt(v.mean)}</span>`);
    }
  });

  it('escapes every user-supplied string', () => {
    const { results } = resultsDocument(XSS);
    results.cells[0].label = `"><script>alert(2)</script>`;
    results.leaderboards[0].rows.find((r) => r.cell === results.cells[0].key)!.label = results.cells[0].label;
    results.leaderboards[0].rows.find((r) => r.status !== 'ok')!.reason = `<b onmouseover=alert(3)>`;
    const html = renderHtml(results, { title: `<script>alert(4)</script>` });
    expect(html).not.toContain(XSS);
    expect(html).not.toMatch(/<script>alert|<b onmouseover/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    // The only script is the page's own sorter.
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
});
