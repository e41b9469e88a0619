import type { CellResult, Leaderboard, ResultsDocument } from '../types.js';
import { columnTitle, FLAG_TEXT, fmt, fmtCi, fmtMemory, fmtMs, fmtRank, fmtRankInterval } from './format.js';

/** Markdown cells must not break the table or smuggle HTML into a CI job summary. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]|<>#]/g, (c) => `\\${c}`)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f]/g, '');
}

/**
 * The leaderboards as Markdown, fit for a CI job summary: per model the primary value of every
 * metric configuration with its CI, the headline's rank interval, mean rank, cost and flags; then
 * the best configuration per family and the metrics' agreement.
 */
export function renderMarkdown(results: ResultsDocument): string {
  const cells = new Map(results.cells.map((c) => [c.key, c]));
  const out: string[] = ['# Blameboard leaderboards', ''];
  out.push(
    `${results.cells.length} cells on ${results.models.length} model${results.models.length === 1 ? '' : 's'}, seed ${results.seed}. ` +
      'Means with 95% paired bootstrap CIs (1000 resamples); ↑/↓: higher/lower is better; rank on the headline with its 95% interval.',
    '',
  );
  for (const board of results.leaderboards) out.push(...leaderboardMarkdown(board, cells), '');
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

export function leaderboardMarkdown(board: Leaderboard, cells: Map<string, CellResult>): string[] {
  const primary = board.columns.filter((c) => c.primary);
  const out: string[] = [`## ${escapeMarkdown(board.model)} — ${escapeMarkdown(board.dataset)}, ${board.samples} samples`, ''];
  if (board.headline) out.push(`Headline: \`${board.headline}\`.`, '');
  const head = ['#', 'configuration', ...primary.map((c) => escapeMarkdown(columnTitle(c, board))), 'headline rank', 'mean rank', 'time/sample', 'peak RSS (+cell)', 'flags'];
  out.push(`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i >= 2 && i < head.length - 1 ? '---:' : '---')).join(' | ')} |`);
  board.rows.forEach((row, i) => {
    const cell = cells.get(row.cell);
    const values = primary.map((c) => {
      const v = row.values[c.id];
      return v ? `${fmt(v.mean)} ${fmtCi(v.ci95)}`.trim() : '—';
    });
    const flags = row.status !== 'ok' ? `**${row.status}**: ${escapeMarkdown(row.reason ?? '')}` : row.flags.map((f) => FLAG_TEXT[f]).join('; ');
    out.push(
      `| ${[
        row.status === 'ok' ? String(i + 1) : '—',
        escapeMarkdown(row.label) + (row.control ? ' *(control)*' : ''),
        ...values,
        fmtRankInterval(row),
        fmtRank(row.meanRank),
        cell ? fmtMs(cell.cost.explainMsPerSample) : '—',
        cell ? fmtMemory(cell.cost) : '—',
        flags,
      ].join(' | ')} |`,
    );
  });
  if (board.best.length) {
    out.push('', '**Best configuration per family** (by the headline, ties by mean rank):', '');
    for (const b of board.best) out.push(`- ${escapeMarkdown(b.family)}: **${escapeMarkdown(b.label)}** (${fmt(b.headline)})`);
  }
  if (board.agreement.columns.length > 1) {
    out.push('', '**Agreement** (Kendall τ between the rankings the metrics give):', '');
    const ids = board.agreement.columns;
    out.push(`| | ${ids.map((_, j) => `(${j + 1})`).join(' | ')} |`, `| --- | ${ids.map(() => '---:').join(' | ')} |`);
    ids.forEach((id, i) => out.push(`| (${i + 1}) ${escapeMarkdown(id)} | ${board.agreement.tau[i].map((t) => fmt(t)).join(' | ')} |`));
  }
  return out;
}
