import type { ResultsDocument } from '../types.js';

/**
 * RFC 4180 quoting; a text field that a spreadsheet would run as a formula (=, +, −, @ first) is
 * prefixed with ' so opening the CSV never executes a model's or label's text.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Every leaderboard row in one table: per column (every value of every metric configuration)
 * mean, CI bounds, valid samples and rank, at full precision.
 */
export function renderCsv(results: ResultsDocument): string {
  const cells = new Map(results.cells.map((c) => [c.key, c]));
  const columns: string[] = [];
  for (const board of results.leaderboards) for (const c of board.columns) if (!columns.includes(c.id)) columns.push(c.id);
  const head = [
    'model', 'dataset', 'configuration', 'family', 'method', 'params', 'status', 'reason',
    ...columns.flatMap((c) => [`${c} mean`, `${c} ci_low`, `${c} ci_high`, `${c} n`, `${c} rank`]),
    'headline_rank', 'headline_rank_low', 'headline_rank_high', 'mean_rank', 'flags', 'explain_ms_per_sample', 'metrics_ms', 'peak_rss_bytes', 'extra_rss_bytes',
  ];
  const lines = [head.map(csvField).join(',')];
  for (const board of results.leaderboards) {
    for (const row of board.rows) {
      const cell = cells.get(row.cell);
      lines.push(
        [
          board.model, board.dataset, row.label, row.family, row.method, JSON.stringify(cell?.params ?? {}), row.status, row.reason ?? null,
          ...columns.flatMap((c) => {
            const v = row.values[c];
            return v ? [v.mean, v.ci95?.[0] ?? null, v.ci95?.[1] ?? null, v.n, v.rank] : [null, null, null, null, null];
          }),
          row.headlineRank, row.rankInterval?.[0] ?? null, row.rankInterval?.[1] ?? null, row.meanRank, row.flags.join(';'),
          cell?.cost.explainMsPerSample ?? null, cell?.cost.metricsMs ?? null, cell?.cost.peakRssBytes ?? null, cell?.cost.extraRssBytes ?? null,
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}
