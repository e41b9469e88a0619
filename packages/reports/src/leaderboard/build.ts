import { averageRanks, quantile } from '@blameboard/metrics';
import type {
  Agreement,
  BestConfiguration,
  CellResult,
  Column,
  ColumnEntry,
  Leaderboard,
  LeaderboardRow,
  MetricConfig,
  ModelInfo,
  RowFlag,
  SampleLine,
  ValueSummary,
} from '../types.js';
import { BOOTSTRAP_RESAMPLES, pairedIndices, percentileInterval, resampleMeans } from './bootstrap.js';
import { kendallTauB } from './kendall.js';

/** The metric whose first value is the headline (SPEC §7: selectivity's ABPC). */
export const HEADLINE_METRIC = 'selectivity';
/** Control methods: their rows set the flags' bars. */
export const UNIFORM_CONTROL = 'uniform';
export const EDGE_CONTROL = 'edge';

export interface AggregateInput {
  models: ModelInfo[];
  metricConfigs: MetricConfig[];
  /** Cells in config order; their value summaries are recomputed here. */
  cells: CellResult[];
  samples: SampleLine[];
  seed: number;
}

export interface Aggregated {
  cells: CellResult[];
  leaderboards: Leaderboard[];
}

/**
 * Per-sample values → every summary the reports show: per cell and value the mean and a paired
 * bootstrap 95% CI; per model the leaderboard (ranks per column, mean rank, the headline's rank
 * interval, control flags, the best configuration per family, Kendall τ agreement between the
 * metrics' rankings). Deterministic: the same inputs give the same numbers, whatever order the
 * cells were computed in.
 */
export function aggregateResults(input: AggregateInput): Aggregated {
  const perSample = new Map<string, SampleLine>();
  for (const line of input.samples) perSample.set(sampleId(line.cell, line.config, line.value), line);
  const cells: CellResult[] = [];
  const leaderboards: Leaderboard[] = [];
  for (const model of input.models) {
    const modelCells = input.cells.filter((c) => c.model === model.id);
    const table = pairedIndices(model.samples, input.seed);
    const resampled = new Map<string, Float64Array>();
    const summarized = modelCells.map((cell) => ({
      ...cell,
      metrics: cell.metrics.map((m) => {
        const values: Record<string, ValueSummary> = {};
        for (const [name, v] of Object.entries(m.values)) {
          const line = perSample.get(sampleId(cell.key, m.config, name));
          if (!line || cell.status !== 'ok' || m.status !== 'ok') {
            values[name] = { direction: v.direction, mean: null, ci95: null, n: 0 };
            continue;
          }
          const valid = line.perSample.filter((x): x is number => x !== null && Number.isFinite(x));
          const means = resampleMeans(line.perSample, table);
          resampled.set(sampleId(cell.key, m.config, name), means);
          values[name] = {
            direction: v.direction,
            mean: valid.length ? valid.reduce((s, x) => s + x, 0) / valid.length : null,
            ci95: valid.length ? percentileInterval(means) : null,
            n: valid.length,
          };
        }
        return { ...m, values };
      }),
    }));
    cells.push(...summarized);
    leaderboards.push(buildLeaderboard(model, input.metricConfigs, summarized, resampled));
  }
  return { cells, leaderboards };
}

function sampleId(cell: string, config: string, value: string): string {
  return `${cell}\u0000${config}\u0000${value}`;
}

function columnsOf(configs: MetricConfig[], cells: CellResult[]): Column[] {
  const columns: Column[] = [];
  for (const config of configs) {
    // Value names in the order the metric reports them; the first is the metric's primary value.
    const names: string[] = [];
    const directions = new Map<string, ValueSummary['direction']>();
    for (const cell of cells) {
      const m = cell.metrics.find((x) => x.config === config.label);
      for (const [name, v] of Object.entries(m?.values ?? {})) {
        if (!names.includes(name)) names.push(name);
        directions.set(name, v.direction);
      }
    }
    names.forEach((value, i) =>
      columns.push({ id: `${config.label}.${value}`, config: config.label, metric: config.metric, value, direction: directions.get(value)!, primary: i === 0 }),
    );
  }
  return columns;
}

function buildLeaderboard(model: ModelInfo, configs: MetricConfig[], cells: CellResult[], resampled: Map<string, Float64Array>): Leaderboard {
  const columns = columnsOf(configs, cells).filter((col) =>
    cells.some((c) => c.status === 'ok' && entryOf(c, col)?.mean != null),
  );
  const headline = columns.find((c) => c.metric === HEADLINE_METRIC && c.primary)?.id ?? null;
  const rows: LeaderboardRow[] = cells.map((cell) => ({
    cell: cell.key,
    label: cell.label,
    family: cell.family,
    method: cell.method,
    axes: cell.axes,
    control: cell.control,
    status: cell.status,
    ...(cell.reason ? { reason: cell.reason } : {}),
    values: {},
    meanRank: null,
    headlineRank: null,
    rankInterval: null,
    flags: [],
  }));

  for (const col of columns) {
    const ranked = rows
      .map((row, i) => ({ row, summary: cells[i].status === 'ok' ? entryOf(cells[i], col) : undefined }))
      .filter((x) => x.summary?.mean != null);
    const ranks = averageRanks(ranked.map((x) => orientation(col) * x.summary!.mean!));
    ranked.forEach((x, i) => {
      const s = x.summary!;
      x.row.values[col.id] = { mean: s.mean!, ci95: s.ci95, n: s.n, rank: ranks[i] } satisfies ColumnEntry;
    });
  }

  const primary = columns.filter((c) => c.primary);
  for (const row of rows) {
    const ranks = primary.map((c) => row.values[c.id]?.rank).filter((r): r is number => r !== undefined);
    row.meanRank = ranks.length ? ranks.reduce((s, r) => s + r, 0) / ranks.length : null;
    if (headline) row.headlineRank = row.values[headline]?.rank ?? null;
  }

  if (headline) {
    const col = columns.find((c) => c.id === headline)!;
    rankIntervals(rows, cells, col, resampled);
    flagAgainstControls(rows, headline);
  }

  const order = rows.map((row, index) => ({ row, index }));
  order.sort((a, b) => {
    const okA = a.row.status === 'ok' ? 0 : 1;
    const okB = b.row.status === 'ok' ? 0 : 1;
    if (okA !== okB) return okA - okB;
    return (
      nullsLast(a.row.meanRank, b.row.meanRank) || nullsLast(a.row.headlineRank, b.row.headlineRank) || a.index - b.index
    );
  });

  return {
    model: model.id,
    dataset: model.dataset,
    samples: model.samples,
    headline,
    columns,
    rows: order.map((o) => o.row),
    best: bestPerFamily(rows, headline),
    agreement: agreement(rows, primary),
  };
}

function entryOf(cell: CellResult, col: Column): ValueSummary | undefined {
  const m = cell.metrics.find((x) => x.config === col.config);
  return m?.status === 'ok' ? m.values[col.value] : undefined;
}

/** Scores multiplied by this sort ascending from best to worst. */
function orientation(col: Column): number {
  return col.direction === 'higher' ? -1 : 1;
}

function nullsLast(a: number | null, b: number | null): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a - b;
}

/**
 * Each resample ranks the rows on its own means (the same samples for every row), so a row's
 * 2.5–97.5% range of ranks says whether its place would survive another draw of the samples.
 */
function rankIntervals(rows: LeaderboardRow[], cells: CellResult[], col: Column, resampled: Map<string, Float64Array>): void {
  const ranked = rows
    .map((row, i) => ({ row, means: resampled.get(sampleId(cells[i].key, col.config, col.value)) }))
    .filter((x): x is { row: LeaderboardRow; means: Float64Array } => x.row.values[col.id] !== undefined && x.means !== undefined);
  if (ranked.length === 0) return;
  const perRow = ranked.map(() => new Float64Array(BOOTSTRAP_RESAMPLES));
  const scores = new Float64Array(ranked.length);
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    for (let r = 0; r < ranked.length; r++) {
      const m = ranked[r].means[b];
      // A resample with no valid sample for a row ranks it last.
      scores[r] = Number.isFinite(m) ? orientation(col) * m : Infinity;
    }
    const ranks = averageRanks(scores);
    for (let r = 0; r < ranked.length; r++) perRow[r][b] = ranks[r];
  }
  ranked.forEach((x, r) => {
    const sorted = perRow[r].sort();
    x.row.rankInterval = [Math.floor(quantile(sorted, 0.025)), Math.ceil(quantile(sorted, 0.975))];
  });
}

/**
 * A row is flagged when its headline CI does not lie above the control's: it is not clearly
 * better than an uninformative map (uniform) or than the input's edges (a Sobel filter that never
 * looks at the model; Adebayo et al. 2018). Rows clearly *worse* than the control are flagged too.
 */
function flagAgainstControls(rows: LeaderboardRow[], headline: string): void {
  const bar = (method: string) => rows.find((r) => r.method === method && r.status === 'ok' && r.values[headline]?.ci95)?.values[headline].ci95;
  const controls: [string, RowFlag][] = [
    [UNIFORM_CONTROL, 'uninformative'],
    [EDGE_CONTROL, 'edge-detector'],
  ];
  for (const [method, flag] of controls) {
    const ci = bar(method);
    if (!ci) continue;
    const [, controlHigh] = ci;
    for (const row of rows) {
      const own = row.values[headline];
      if (!own?.ci95) continue;
      const better = own.ci95[0] > controlHigh;
      if (!better) row.flags.push(flag);
    }
  }
}

/** Per family with a grid, the cell with the best headline; ties by mean rank, then config order. */
function bestPerFamily(rows: LeaderboardRow[], headline: string | null): BestConfiguration[] {
  if (!headline) return [];
  const families = [...new Set(rows.map((r) => r.family))];
  const best: BestConfiguration[] = [];
  for (const family of families) {
    const members = rows.filter((r) => r.family === family);
    if (members.length < 2) continue;
    const scored = members.filter((r) => r.values[headline] !== undefined);
    if (scored.length === 0) continue;
    const winner = scored.reduce((a, b) => {
      const ra = a.values[headline].rank;
      const rb = b.values[headline].rank;
      if (ra !== rb) return ra < rb ? a : b;
      return nullsLast(a.meanRank, b.meanRank) <= 0 ? a : b;
    });
    best.push({ family, cell: winner.cell, label: winner.label, axes: winner.axes, headline: winner.values[headline].mean });
  }
  return best;
}

function agreement(rows: LeaderboardRow[], primary: Column[]): Agreement {
  const tau = primary.map((a) =>
    primary.map((b) => {
      const both = rows.filter((r) => r.values[a.id] !== undefined && r.values[b.id] !== undefined);
      // Compare the rankings (best first in both), so τ = 1 means the two metrics agree.
      return kendallTauB(
        both.map((r) => r.values[a.id].rank),
        both.map((r) => r.values[b.id].rank),
      );
    }),
  );
  return { columns: primary.map((c) => c.id), tau };
}
