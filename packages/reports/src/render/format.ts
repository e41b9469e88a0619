import type { Column, Leaderboard, LeaderboardRow, RowFlag } from '../types.js';

/** A number as the reports show it: 3 significant digits, exponent notation outside [1e-3, 1e4). */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

export function fmtCi(ci: [number, number] | null | undefined): string {
  return ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : '';
}

/** A rank: whole ranks as integers, tied (average) ranks with one decimal. */
export function fmtRank(r: number | null | undefined): string {
  if (r === null || r === undefined) return '—';
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

export function fmtRankInterval(row: LeaderboardRow): string {
  if (row.headlineRank === null) return '—';
  const iv = row.rankInterval ? ` (${row.rankInterval[0]}–${row.rankInterval[1]})` : '';
  return `${fmtRank(row.headlineRank)}${iv}`;
}

export const ARROW: Record<Column['direction'], string> = { higher: '↑', lower: '↓' };

/** Short column heading: the metric configuration and, for metrics with several values, the value. */
export function columnTitle(col: Column, board: Leaderboard): string {
  const siblings = board.columns.filter((c) => c.config === col.config).length;
  const name = siblings > 1 || col.value !== col.metric ? `${col.config} ${col.value}` : col.config;
  return `${name} ${ARROW[col.direction]}`;
}

export const FLAG_TEXT: Record<RowFlag, string> = {
  uninformative: 'no better than uninformative',
  'edge-detector': 'no better than an edge detector',
};

export function fmtBytes(b: number | null): string {
  return b === null ? '—' : `${Math.round(b / 2 ** 20)} MiB`;
}

/** Peak RSS with what the cell added on top of the process's memory at its start. */
export function fmtMemory(cost: { peakRssBytes: number | null; extraRssBytes: number | null }): string {
  if (cost.peakRssBytes === null) return '—';
  return cost.extraRssBytes === null ? fmtBytes(cost.peakRssBytes) : `${fmtBytes(cost.peakRssBytes)} (+${Math.round(cost.extraRssBytes / 2 ** 20)})`;
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${Number(ms.toPrecision(2))} ms`;
}

export function axesText(axes: Record<string, unknown>): string {
  return Object.entries(axes)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
