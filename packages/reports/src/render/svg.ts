import { escapeHtml } from './escape.js';
import { fmt } from './format.js';

export interface Series {
  name: string;
  /** One y per x position; null leaves a gap. */
  y: (number | null)[];
  /** Optional band (CI) around y. */
  low?: (number | null)[];
  high?: (number | null)[];
  color: string;
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  /** Labels of the x positions (categorical, evenly spaced: γ = 0 and 5 share one plot honestly). */
  x: string[];
  xLabel: string;
  yLabel?: string;
  series: Series[];
  width?: number;
  height?: number;
}

/** A small line chart as inline SVG: no script, no fonts to fetch, every label escaped. */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 260;
  const height = spec.height ?? 170;
  const m = { left: 46, right: 16, top: 22, bottom: 34 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all: number[] = [];
  for (const s of spec.series) for (const arr of [s.y, s.low ?? [], s.high ?? []]) for (const v of arr) if (v !== null && Number.isFinite(v)) all.push(v);
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi === lo) {
    hi += Math.abs(hi) * 0.05 || 0.5;
    lo -= Math.abs(lo) * 0.05 || 0.5;
  }
  const n = spec.x.length;
  const xAt = (i: number) => m.left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const yAt = (v: number) => m.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(spec.title)}">`);
  // Long titles are cut to the chart's width; the whole title stays in the tooltip.
  const room = Math.floor((width - m.left) / 6.2);
  const title = spec.title.length > room ? `${spec.title.slice(0, room - 1)}…` : spec.title;
  parts.push(`<text x="${m.left}" y="13" class="chart-title"><title>${escapeHtml(spec.title)}</title>${escapeHtml(title)}</text>`);
  // y axis: three ticks
  for (const t of [lo, (lo + hi) / 2, hi]) {
    const y = yAt(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${m.left - 4}" y="${y}" class="tick" text-anchor="end" dominant-baseline="middle">${escapeHtml(fmt(t))}</text>`);
  }
  spec.x.forEach((label, i) => {
    parts.push(`<text x="${xAt(i).toFixed(1)}" y="${height - m.bottom + 12}" class="tick" text-anchor="middle">${escapeHtml(label)}</text>`);
  });
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 4}" class="axis-label" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);
  for (const s of spec.series) {
    if (s.low && s.high) {
      const upper: string[] = [];
      const lower: string[] = [];
      s.high.forEach((v, i) => v !== null && s.low![i] !== null && upper.push(`${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`));
      s.low.forEach((v, i) => v !== null && s.high![i] !== null && lower.push(`${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`));
      if (upper.length > 1) parts.push(`<polygon points="${[...upper, ...lower.reverse()].join(' ')}" fill="${s.color}" fill-opacity="0.18" stroke="none"/>`);
    }
    const segments: string[][] = [[]];
    s.y.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) segments.push([]);
      else segments[segments.length - 1].push(`${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`);
    });
    for (const seg of segments.filter((x) => x.length)) {
      parts.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    }
    s.y.forEach((v, i) => {
      if (v !== null && Number.isFinite(v) && n <= 16) parts.push(`<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="2.2" fill="${s.color}"><title>${escapeHtml(`${s.name} @ ${spec.x[i]}: ${fmt(v)}`)}</title></circle>`);
    });
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Qualitative palette (Okabe–Ito, readable by colour-blind readers). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
