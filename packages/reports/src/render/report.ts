import { serializeResults, serializeSamples, RESULTS_FILE, SAMPLES_FILE } from '../results.js';
import type { ResultsDocument, SampleLine } from '../types.js';
import { renderCsv } from './csv.js';
import { renderHtml, type HeatmapGrid } from './html.js';
import { renderMarkdown } from './markdown.js';

export const REPORT_FORMATS = ['md', 'html', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** File names of each format inside a report folder. */
export const REPORT_FILES: Record<ReportFormat, string[]> = {
  md: ['leaderboard.md'],
  html: ['index.html'],
  json: [RESULTS_FILE, SAMPLES_FILE],
  csv: ['leaderboard.csv'],
};

/** Every requested rendering of one results document, as (file name, contents) pairs. */
export function renderReport(
  results: ResultsDocument,
  samples: SampleLine[],
  formats: readonly ReportFormat[],
  opts: { heatmaps?: HeatmapGrid[] } = {},
): { name: string; data: string }[] {
  const files: { name: string; data: string }[] = [];
  for (const format of formats) {
    switch (format) {
      case 'md':
        files.push({ name: 'leaderboard.md', data: renderMarkdown(results) });
        break;
      case 'html':
        files.push({ name: 'index.html', data: renderHtml(results, { heatmaps: opts.heatmaps }) });
        break;
      case 'json':
        files.push({ name: RESULTS_FILE, data: serializeResults(results) }, { name: SAMPLES_FILE, data: serializeSamples(samples) });
        break;
      case 'csv':
        files.push({ name: 'leaderboard.csv', data: renderCsv(results) });
        break;
    }
  }
  return files;
}
