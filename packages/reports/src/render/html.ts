import type { Tensor } from '@blameboard/core';
import type { CellResult, Column, Leaderboard, LeaderboardRow, ResultsDocument } from '../types.js';
import { escapeHtml } from './escape.js';
import { columnTitle, FLAG_TEXT, fmt, fmtCi, fmtMemory, fmtMs, fmtRank } from './format.js';
import { planeShape, renderStrip } from './heatmap.js';
import { pngDataUrl } from './png.js';
import { lineChart, PALETTE, type Series } from './svg.js';

/** The fixed samples of one model and the maps of the configurations shown in its heatmap grid. */
export interface HeatmapGrid {
  model: string;
  /** The samples, [k, …] (k ≤ 6). */
  inputs: Tensor;
  imageShape?: number[];
  rows: { cell: string; label: string; attributions: Tensor }[];
}

export interface HtmlOptions {
  heatmaps?: HeatmapGrid[];
  title?: string;
}

/**
 * One self-contained page: inline CSS, a few lines of inline JS (column sorting), inline SVG
 * charts and PNG heatmaps as data URLs. Its Content-Security-Policy forbids every network fetch,
 * and every string that came from a user (model names, labels, parameters, reasons) is escaped.
 */
export function renderHtml(results: ResultsDocument, opts: HtmlOptions = {}): string {
  const cells = new Map(results.cells.map((c) => [c.key, c]));
  const title = opts.title ?? 'Blameboard leaderboards';
  const body: string[] = [];
  body.push(`<header><h1>${escapeHtml(title)}</h1>${summary(results)}</header>`);
  if (results.leaderboards.length > 1) {
    body.push(`<nav><ul>${results.leaderboards.map((b, i) => `<li><a href="#model-${i}">${escapeHtml(b.model)}</a></li>`).join('')}</ul></nav>`);
  }
  results.leaderboards.forEach((board, i) => {
    const grid = opts.heatmaps?.find((h) => h.model === board.model);
    body.push(modelSection(board, i, results, cells, grid));
  });
  body.push(howToRead());
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body.join('\n')}
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}

function summary(results: ResultsDocument): string {
  const run = results.runs[0];
  const env = run?.environment;
  const phases = results.runs
    .map((r) => `${r.shard ? `shard ${escapeHtml(r.shard)}: ` : ''}${Object.entries(r.phases).map(([k, v]) => `${escapeHtml(k)} ${(v / 1000).toFixed(1)} s`).join(', ')}`)
    .join('; ');
  const versions = Object.entries(results.versions).map(([k, v]) => `${escapeHtml(k)} ${escapeHtml(v)}`).join(', ');
  return `<p class="meta">${results.cells.length} cells on ${results.models.length} model(s), seed ${results.seed}.
${env ? `Node ${escapeHtml(env.node)}, onnxruntime ${escapeHtml(env.onnxruntime)}, ${escapeHtml(env.cpu)} × ${env.cpus}, ${env.threads} thread(s)${env.gitCommit ? `, commit <code>${escapeHtml(env.gitCommit.slice(0, 12))}</code>` : ''}.` : ''}
Phases: ${phases}. Versions: ${versions}.</p>`;
}

function modelSection(board: Leaderboard, index: number, results: ResultsDocument, cells: Map<string, CellResult>, grid: HeatmapGrid | undefined): string {
  const parts: string[] = [];
  parts.push(`<section id="model-${index}" class="model" data-model="${escapeHtml(board.model)}">`);
  parts.push(`<h2>${escapeHtml(board.model)} <small>${escapeHtml(board.dataset)}, ${board.samples} samples</small></h2>`);
  if (board.headline) parts.push(`<p>Headline: <code>${escapeHtml(board.headline)}</code>. Click a column header to sort.</p>`);
  parts.push(leaderboardTable(board, cells));
  if (board.best.length) {
    parts.push('<h3>Best configuration per family</h3><ul class="best">');
    for (const b of board.best) parts.push(`<li>${escapeHtml(b.family)}: <strong>${escapeHtml(b.label)}</strong> (headline ${escapeHtml(fmt(b.headline))})</li>`);
    parts.push('</ul>');
  }
  const sweeps = parameterPlots(board, results.cells.filter((c) => c.model === board.model));
  if (sweeps) parts.push('<h3>Metrics against the swept parameter</h3>', sweeps);
  const curves = curvePlots(board, cells);
  if (curves) parts.push('<h3>Pixel-flipping curves (MoRF solid, LeRF dashed) of the best configurations</h3>', curves);
  if (board.agreement.columns.length > 1) parts.push('<h3>Agreement between the metrics\u2019 rankings (Kendall τ)</h3>', agreementTable(board));
  if (grid && grid.rows.length) parts.push('<h3>Heatmaps</h3>', heatmapGrid(grid));
  parts.push('</section>');
  return parts.join('\n');
}

function leaderboardTable(board: Leaderboard, cells: Map<string, CellResult>): string {
  const primary = board.columns.filter((c) => c.primary);
  const head: string[] = [
    '<th data-type="number">#</th>',
    '<th data-type="text">configuration</th>',
    ...primary.map((c) => `<th data-type="number" data-column="${escapeHtml(c.id)}" title="${escapeHtml(c.id)}">${escapeHtml(columnTitle(c, board))}</th>`),
    '<th data-type="number" title="rank on the headline and its 95% bootstrap interval">headline rank</th>',
    '<th data-type="number">mean rank</th>',
    '<th data-type="number" title="attribution time per sample">time / sample</th>',
    '<th data-type="number" title="peak resident memory of the process during the cell (in parentheses: MiB the cell added to what the process held when it started)">peak RSS</th>',
    '<th data-type="text">flags</th>',
  ];
  const rows = board.rows.map((row, i) => leaderboardRow(row, i, primary, cells.get(row.cell)));
  return `<div class="scroll"><table class="leaderboard sortable"><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

function leaderboardRow(row: LeaderboardRow, position: number, primary: Column[], cell: CellResult | undefined): string {
  const classes = [row.control ? 'control' : '', row.status !== 'ok' ? 'bad' : '', row.flags.length ? 'flagged' : ''].filter(Boolean).join(' ');
  const td: string[] = [];
  td.push(`<td data-sort="${row.status === 'ok' ? position + 1 : ''}">${row.status === 'ok' ? position + 1 : '—'}</td>`);
  td.push(`<td data-sort="${escapeHtml(row.label)}" class="label">${escapeHtml(row.label)}${row.control ? ' <span class="tag">control</span>' : ''}</td>`);
  for (const c of primary) {
    const v = row.values[c.id];
    if (!v) {
      const reason = cell?.metrics.find((m) => m.config === c.config)?.reason;
      td.push(`<td data-sort="" class="na"${reason ? ` title="${escapeHtml(reason)}"` : ''}>—</td>`);
      continue;
    }
    td.push(
      `<td data-sort="${v.rank}" data-value="${v.mean}" data-ci="${v.ci95 ? v.ci95.join(',') : ''}" data-rank="${v.rank}"><span class="v">${escapeHtml(fmt(v.mean))}</span> <span class="ci">${escapeHtml(fmtCi(v.ci95))}</span></td>`,
    );
  }
  const iv = row.rankInterval ? ` <span class="ci">(${row.rankInterval[0]}–${row.rankInterval[1]})</span>` : '';
  td.push(`<td data-sort="${row.headlineRank ?? ''}">${escapeHtml(fmtRank(row.headlineRank))}${iv}</td>`);
  td.push(`<td data-sort="${row.meanRank ?? ''}">${escapeHtml(fmtRank(row.meanRank))}</td>`);
  td.push(`<td data-sort="${cell?.cost.explainMsPerSample ?? ''}">${cell ? escapeHtml(fmtMs(cell.cost.explainMsPerSample)) : '—'}</td>`);
  td.push(`<td data-sort="${cell?.cost.peakRssBytes ?? ''}">${cell ? escapeHtml(fmtMemory(cell.cost)) : '—'}</td>`);
  const flags = row.status !== 'ok' ? `<strong>${row.status}</strong>: ${escapeHtml(row.reason ?? '')}` : row.flags.map((f) => `<span class="flag">${escapeHtml(FLAG_TEXT[f])}</span>`).join(' ');
  td.push(`<td data-sort="${row.status !== 'ok' ? 'zz' : row.flags.join(' ')}">${flags}</td>`);
  return `<tr data-cell="${escapeHtml(row.cell)}" class="${classes}">${td.join('')}</tr>`;
}

/** Families that sweep exactly one parameter: each primary metric against it, with its CI band. */
function parameterPlots(board: Leaderboard, modelCells: CellResult[]): string {
  const rowsByCell = new Map(board.rows.map((r) => [r.cell, r]));
  const families = [...new Set(modelCells.map((c) => c.family))];
  const blocks: string[] = [];
  for (const family of families) {
    const members = modelCells.filter((c) => c.family === family);
    const axes = Object.keys(members[0]?.axes ?? {});
    if (members.length < 2 || axes.length !== 1) continue;
    const axis = axes[0];
    const x = members.map((c) => (typeof c.axes[axis] === 'string' ? String(c.axes[axis]) : JSON.stringify(c.axes[axis])));
    const charts = board.columns
      .filter((c) => c.primary)
      .map((col, i) => {
        const entries = members.map((c) => rowsByCell.get(c.key)?.values[col.id]);
        if (entries.every((e) => !e)) return '';
        const series: Series = {
          name: col.id,
          y: entries.map((e) => e?.mean ?? null),
          low: entries.map((e) => e?.ci95?.[0] ?? null),
          high: entries.map((e) => e?.ci95?.[1] ?? null),
          color: PALETTE[i % PALETTE.length],
        };
        return lineChart({ title: columnTitle(col, board), x, xLabel: axis, series: [series] });
      })
      .filter(Boolean);
    blocks.push(`<div class="family"><h4>${escapeHtml(family)} <small>against ${escapeHtml(axis)}</small></h4><div class="charts">${charts.join('')}</div></div>`);
  }
  return blocks.join('\n');
}

/** MoRF/LeRF mean curves of the headline selectivity configuration, best rows first, and the uniform control. */
function curvePlots(board: Leaderboard, cells: Map<string, CellResult>): string {
  if (!board.headline) return '';
  const config = board.columns.find((c) => c.id === board.headline)!.config;
  const bestCells = new Set(board.best.map((b) => b.cell));
  const singles = board.rows.filter((r) => board.rows.filter((x) => x.family === r.family).length === 1 && !r.control);
  const shown = board.rows
    .filter((r) => r.status === 'ok' && (bestCells.has(r.cell) || singles.includes(r)))
    .slice(0, 8);
  const control = board.rows.find((r) => r.method === 'uniform' && r.status === 'ok');
  if (control && !shown.includes(control)) shown.push(control);
  const charts: string[] = [];
  for (const row of shown) {
    const curves = cells.get(row.cell)?.metrics.find((m) => m.config === config)?.curves;
    if (!curves?.morf && !curves?.lerf) continue;
    const length = (curves.morf ?? curves.lerf)!.length;
    const x = Array.from({ length }, (_, k) => (k === 0 || k === length - 1 || k === Math.floor((length - 1) / 2) ? String(k) : ''));
    const series: Series[] = [];
    if (curves.morf) series.push({ name: 'MoRF', y: curves.morf, color: PALETTE[0] });
    if (curves.lerf) series.push({ name: 'LeRF', y: curves.lerf, color: PALETTE[1], dashed: true });
    charts.push(lineChart({ title: row.label, x, xLabel: 'stage', series }));
  }
  return charts.length ? `<div class="charts">${charts.join('')}</div>` : '';
}

function agreementTable(board: Leaderboard): string {
  const ids = board.agreement.columns;
  const head = `<tr><th></th>${ids.map((_, j) => `<th title="${escapeHtml(ids[j])}">(${j + 1})</th>`).join('')}</tr>`;
  const rows = ids.map((id, i) => {
    const cellsHtml = board.agreement.tau[i].map((t) => {
      const color = t === null ? '#eee' : tauColor(t);
      return `<td style="background:${color}" data-tau="${t ?? ''}">${escapeHtml(fmt(t))}</td>`;
    });
    return `<tr><th class="label">(${i + 1}) ${escapeHtml(id)}</th>${cellsHtml.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="agreement">${head}${rows.join('')}</table></div>`;
}

function tauColor(t: number): string {
  const a = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - 0.6 * a));
  return t >= 0 ? `rgb(${fade},${fade},255)` : `rgb(255,${fade},${fade})`;
}

/**
 * The grid's strips are encoded at one pixel per value and enlarged by the browser (pixelated):
 * 16× fewer pixels to encode and embed than drawing them at display size.
 */
function heatmapGrid(grid: HeatmapGrid): string {
  const opts = { imageShape: grid.imageShape, maxSamples: grid.inputs.shape[0], scale: 1 };
  const [h] = planeShape(grid.inputs.shape.slice(1), grid.imageShape);
  const height = h === 1 ? 3 * 14 : Math.min(4, Math.max(1, Math.floor(128 / (h + 4)))) * (h + 4);
  const img = (alt: string, png: Uint8Array) => `<img alt="${escapeHtml(alt)}" height="${height}" src="${pngDataUrl(png)}">`;
  const rows = [`<tr><th>inputs</th><td>${img('inputs', renderStrip(grid.inputs, null, opts))}</td></tr>`];
  for (const row of grid.rows) {
    rows.push(`<tr><th class="label">${escapeHtml(row.label)}</th><td>${img(row.label, renderStrip(grid.inputs, row.attributions, opts))}</td></tr>`);
  }
  return `<p class="note">Red: evidence for the target; blue: against; each map scaled to its own max |R|.</p><table class="heatmaps">${rows.join('')}</table>`;
}

function howToRead(): string {
  return `<footer><h2>How to read this page</h2><ul>
<li>Each cell shows the mean over the samples and its 95% bootstrap interval (1000 resamples). The bootstrap is <em>paired</em>: every row is resampled on the same samples, so two rows whose intervals barely overlap may still differ reliably.</li>
<li><em>Headline rank</em> is the place on the headline metric (selectivity's ABPC) with its 95% interval over the resamples: “3 (2–5)” means the third place could be anything from second to fifth.</li>
<li><em>No better than uninformative</em>: the headline interval does not lie above the <code>uniform</code> control's. <em>No better than an edge detector</em>: it does not lie above the <code>edge</code> control's, a Sobel filter of the input that never looks at the model (Adebayo et al. 2018).</li>
<li>The agreement matrix compares the rankings the metrics give (τ = 1: same order, −1: reversed): if it is low, the verdict depends on the metric you pick.</li>
<li>Time and memory are measured per cell by the runner; cached cells keep the figures of the run that computed them.</li>
</ul></footer>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:16px 24px;color:#1b1f24;background:#fff}
h1{margin:.2em 0}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:4px}h2 small,h4 small{color:#57606a;font-weight:normal}
.meta,.note{color:#57606a}code{background:#f3f4f6;padding:0 3px;border-radius:3px}
nav ul{display:flex;gap:14px;list-style:none;padding:0;flex-wrap:wrap}
.scroll{overflow-x:auto}
table{border-collapse:collapse}
table.leaderboard th,table.leaderboard td{border-bottom:1px solid #e5e7eb;padding:3px 8px;text-align:right;white-space:nowrap}
table.leaderboard td.label,table.leaderboard th:nth-child(2){text-align:left}
table.leaderboard th{position:sticky;top:0;background:#f6f8fa;cursor:pointer;user-select:none}
table.leaderboard th[aria-sort=ascending]::after{content:" ▲"}table.leaderboard th[aria-sort=descending]::after{content:" ▼"}
tr.control td.label{font-style:italic}tr.bad{color:#8c959f}tr.flagged td.label{color:#9a6700}
.ci{color:#6e7781;font-size:12px}.tag{font-size:11px;background:#ddf4ff;border-radius:8px;padding:0 6px;font-style:normal}
.flag{font-size:12px;background:#fff8c5;border-radius:8px;padding:0 6px;margin-right:3px}
.na{color:#8c959f}
.charts{display:flex;flex-wrap:wrap;gap:6px}
.chart .chart-title{font-size:11px;font-weight:600}.chart .tick{font-size:9px;fill:#57606a}.chart .axis-label{font-size:10px;fill:#57606a}.chart .grid{stroke:#eaeef2}
table.agreement td{width:44px;text-align:center;font-size:12px;border:1px solid #fff}table.agreement th.label{text-align:left;font-weight:normal;font-size:12px;padding-right:8px}
table.heatmaps th{text-align:right;font-weight:normal;padding-right:8px;font-size:12px}table.heatmaps img{image-rendering:pixelated;display:block}
footer{margin-top:3em;color:#57606a}
`;

/**
 * Sorting: a header click orders the rows by that column's data-sort (numbers ascending = best
 * first for metric columns, which sort by rank; text alphabetically); a second click reverses;
 * rows without a value stay last.
 */
const SORT_SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (table) {
  var headers = table.querySelectorAll('thead th');
  headers.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var numeric = th.dataset.type === 'number';
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        if (x === '' && y === '') return 0;
        if (x === '') return 1;
        if (y === '') return -1;
        var d = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
`;

