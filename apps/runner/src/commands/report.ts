import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError, writeFilesAtomic } from '@blameboard/core';
import {
  aggregateResults,
  readResults,
  renderReport,
  REPORT_FORMATS,
  type HeatmapGrid,
  type MetricConfig,
  type ReportFormat,
  type ResultsDocument,
  type SampleLine,
} from '@blameboard/reports';
import { optional, parseFlags, required, type FlagSpec } from '../args.js';
import type { Io } from '../io.js';
import { heatmapGrids } from '../sweep/collect.js';
import { sha256 } from '../sweep/config.js';
import { SweepStore } from '../sweep/store.js';

export function parseFormats(text: string | undefined): ReportFormat[] {
  if (text === undefined) return [...REPORT_FORMATS];
  const formats = text.split(',').map((f) => f.trim()).filter(Boolean);
  const bad = formats.find((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (bad !== undefined || formats.length === 0) throw new UsageError(`--format takes a comma-separated list of ${REPORT_FORMATS.join(', ')}, got '${text}'`);
  return [...new Set(formats)] as ReportFormat[];
}

/** Re-aggregates a results folder from its per-sample values (the numbers are recomputed, not copied). */
function reaggregate(results: ResultsDocument, samples: SampleLine[]): ResultsDocument {
  const { cells, leaderboards } = aggregateResults({ models: results.models, metricConfigs: results.metricConfigs, cells: results.cells, samples, seed: results.seed });
  return { ...results, cells, leaderboards };
}

/** Several results folders side by side: their models must be distinct and their metric configurations agree. */
function combine(parts: ResultsDocument[], dirs: string[]): ResultsDocument {
  if (parts.length === 1) return parts[0];
  const seed = parts[0].seed;
  const models = new Map<string, string>();
  const configs = new Map<string, MetricConfig>();
  parts.forEach((p, i) => {
    if (p.seed !== seed) throw new InputError(`${dirs[i]} was made with seed ${p.seed}, ${dirs[0]} with ${seed}: reports combine results of one seed`);
    for (const m of p.models) {
      const other = models.get(m.id);
      if (other) throw new InputError(`model '${m.id}' is in both ${other} and ${dirs[i]}`);
      models.set(m.id, dirs[i]);
    }
    for (const c of p.metricConfigs) {
      const known = configs.get(c.label);
      if (known && JSON.stringify(known.params) !== JSON.stringify(c.params)) {
        throw new InputError(`metric configuration '${c.label}' has different parameters in ${dirs[i]}`);
      }
      configs.set(c.label, c);
    }
  });
  const versions: Record<string, string> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.versions)) versions[k] = versions[k] && versions[k] !== v ? `${versions[k]} | ${v}` : v;
  return {
    ...parts[0],
    config: { combined: parts.map((p) => p.config) },
    configHash: sha256(parts.map((p) => p.configHash).join(',')),
    versions,
    models: parts.flatMap((p) => p.models),
    metricConfigs: [...configs.values()],
    cells: parts.flatMap((p) => p.cells),
    leaderboards: parts.flatMap((p) => p.leaderboards),
    runs: parts.flatMap((p) => p.runs),
  };
}

export const REPORT_FLAGS = { out: { type: 'string' }, format: { type: 'string' } } as const satisfies FlagSpec;

export async function reportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('report', argv, REPORT_FLAGS);
  const out = required('report', values, 'out');
  const formats = parseFormats(optional(values, 'format'));
  if (positionals.length === 0) throw new UsageError('give the results folder(s): blameboard report RESULTS_DIR… --out DIR');
  const parts: ResultsDocument[] = [];
  const samples: SampleLine[] = [];
  const heatmaps: HeatmapGrid[] = [];
  for (const dir of positionals) {
    const read = readResults(dir);
    const doc = reaggregate(read.results, read.samples);
    parts.push(doc);
    samples.push(...read.samples);
    if (formats.includes('html')) heatmaps.push(...heatmapGrids(doc, new SweepStore(dir)));
  }
  const results = combine(parts, positionals);
  mkdirSync(out, { recursive: true });
  const files = renderReport(results, samples, formats, { heatmaps });
  writeFilesAtomic(files.map((f) => ({ path: join(out, f.name), data: f.data })));
  io.err(`report: ${results.leaderboards.length} leaderboard${results.leaderboards.length === 1 ? '' : 's'} → ${files.map((f) => join(out, f.name)).join(', ')}`);
  return 0;
}
