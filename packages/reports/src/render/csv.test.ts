import { describe, expect, it } from 'vitest';
import { resultsDocument } from '../test-utils/fixtures.js';
import { csvField, renderCsv } from './csv.js';

/** A small RFC 4180 reader for the test. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('renderCsv', () => {
  it('writes every row with full-precision means, CIs and ranks', () => {
    const { results } = resultsDocument();
    const [head, ...rows] = parseCsv(renderCsv(results));
    expect(rows).toHaveLength(results.leaderboards[0].rows.length);
    const col = (name: string) => head.indexOf(name);
    for (const row of results.leaderboards[0].rows) {
      const line = rows.find((r) => r[col('configuration')] === row.label)!;
      const v = row.values['selectivity.abpc'];
      expect(line[col('selectivity.abpc mean')]).toBe(v ? String(v.mean) : '');
      expect(line[col('selectivity.abpc rank')]).toBe(v ? String(v.rank) : '');
      expect(line[col('status')]).toBe(row.status);
    }
  });

  it('quotes separators and keeps spreadsheet formulas from running', () => {
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1+2')).toBe("'-1+2");
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField(null)).toBe('');
  });
});
