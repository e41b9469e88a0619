import { describe, expect, it } from 'vitest';
import { resultsDocument } from '../test-utils/fixtures.js';
import { fmt } from './format.js';
import { escapeMarkdown, renderMarkdown } from './markdown.js';

describe('renderMarkdown', () => {
  it('shows every row with its mean, CI, ranks, cost and flags', () => {
    const { results } = resultsDocument();
    const md = renderMarkdown(results);
    const board = results.leaderboards[0];
    expect(md).toContain('## m — synthetic, 12 samples');
    for (const row of board.rows) {
      const line = md.split('\n').find((l) => l.includes(`| ${escapeMarkdown(row.label)}${row.control ? ' *(control)*' : ''} |`))!;
      expect(line, row.label).toBeDefined();
      const v = row.values['selectivity.abpc'];
      if (v) expect(line).toContain(`${fmt(v.mean)} [${fmt(v.ci95![0])}, ${fmt(v.ci95![1])}]`);
    }
    const uniform = md.split('\n').find((l) => l.includes('uniform *(control)*'))!;
    expect(uniform).toContain('no better than uninformative');
    expect(md).toMatch(/\| — \| smoothgrad \|.*\*\*invalid\*\*: attributions hold 3 NaN/);
    expect(md).toContain('- lrp gamma: **lrp gamma gamma=0.25**');
    expect(md).toContain('(1) selectivity.abpc');
  });

  it('escapes what could break the table or inject HTML into a job summary', () => {
    const { results } = resultsDocument('<img src=x onerror=alert(1)>|x');
    const md = renderMarkdown(results);
    expect(md).not.toMatch(/(^|[^\\])<img/m);
    expect(md).toContain('\\<img src=x onerror=alert(1)\\>\\|x');
    expect(escapeMarkdown('a\nb\u001b[31m')).toBe('a b\\[31m');
  });
});
