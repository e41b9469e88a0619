import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { npyParts, tfjsModelJson, UsageError, writeFilesAtomic } from '@blameboard/core';
import { renderReport, REPORT_FORMATS, type ModelInfo, type ReportFormat, type RunRecord } from '@blameboard/reports';
import type { Io } from '../io.js';
import { firstRows, collectResults, heatmapGrids } from './collect.js';
import type { ResolvedSweep } from './config.js';
import { runCell } from './cell.js';
import { environment, packageVersions, tfjsRecord } from './environment.js';
import { planCells, planModels, shardCells, type PlannedModel } from './plan.js';
import { formatSeconds, makeProgress } from './progress.js';
import { SweepStore, type Manifest } from './store.js';

export interface SweepOptions {
  out: string;
  resume: boolean;
  shard: { k: number; n: number } | null;
  io: Io;
  /** Polled between cells: true stops the sweep after the current cell (Ctrl-C). */
  shouldStop: () => boolean;
  formats?: readonly ReportFormat[];
  /** The command line that resumes this sweep, for the interruption message. */
  resumeHint?: string;
  /** Memory budget in bytes (default: core's, half the machine); batch sizes follow from it. */
  memory?: number;
}

/** Exit code of a sweep stopped by a signal (128 + SIGINT), as shells expect. */
export const INTERRUPTED = 130;

/**
 * Runs a sweep into `out`: plans every cell, computes those of this shard that the cache lacks,
 * and — for a whole sweep — aggregates and renders the reports. Returns the exit code.
 */
export async function runSweep(sweep: ResolvedSweep, opts: SweepOptions): Promise<number> {
  const store = new SweepStore(opts.out);
  if (!opts.resume && store.hasSweep()) {
    throw new UsageError(`${opts.out} already holds a sweep; pass --resume to continue it (cached cells are reused), or choose another --out`);
  }
  const fresh = !existsSync(opts.out);
  const release = store.lock();
  let failed = false;
  try {
    return await sweepLocked(sweep, opts, store);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    release();
    // A sweep refused before it computed anything (a model or inputs that do not load) leaves
    // no empty folders behind; whatever it did compute stays, for --resume.
    if (failed && fresh) removeEmptyFolders(opts.out);
  }
}

/** Removes `dir` and the folders under it that hold no file (never a file). */
function removeEmptyFolders(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeEmptyFolders(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // not empty: it holds results
  }
}

async function sweepLocked(sweep: ResolvedSweep, opts: SweepOptions, store: SweepStore): Promise<number> {
  const { io } = opts;
  const started = new Date();
  const phases: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - t);
    t = now;
  };
  store.ensure();
  removeStaleTemps(store.dir);

  const versions = packageVersions();
  const models = await planModels(sweep);
  const cells = planCells(sweep, models, versions);
  const shard = opts.shard;
  const owned = shard ? shardCells(cells, shard.k, shard.n) : cells;
  const previous = opts.resume ? store.readManifest() : null;
  const manifest: Manifest = {
    schema: 'blameboard-sweep',
    name: sweep.name,
    configHash: sweep.configHash,
    config: sweep.config,
    versions,
    seed: sweep.seed,
    heatmapSamples: sweep.heatmapSamples,
    models: models.map(modelInfo),
    metricConfigs: sweep.metrics,
    cells: cells.map((c) => {
      const { pointer: _pointer, ...configuration } = c.method;
      return { key: c.key, model: models[c.model].spec.name, ...configuration };
    }),
    shard: shard ? `${shard.k}/${shard.n}` : null,
    owned: owned.map((c) => c.key),
  };
  if (previous && previous.configHash !== manifest.configHash) io.err('the config changed since the last run: cells whose inputs are unchanged are reused from the cache');
  store.writeManifest(manifest);
  models.forEach((pm, i) => {
    if (sweep.heatmapSamples > 0) writeFilesAtomic([{ path: store.samplesFile(i), data: npyParts(firstRows(pm.inputs, sweep.heatmapSamples)) }]);
  });
  lap('plan');

  io.err(
    `sweep '${sweep.name}': ${cells.length} cells (${models.length} model${models.length === 1 ? '' : 's'} × ${sweep.methods.length} method configurations) × ${sweep.metrics.length} metric configurations, ${sweep.samples} samples per model` +
      (shard ? `; shard ${shard.k}/${shard.n} runs ${owned.length}` : ''),
  );
  const progress = makeProgress(io, owned.length);
  let computedCells = 0;
  let cachedCells = 0;
  let done = 0;
  const failures: string[] = [];
  try {
    for (const cell of owned) {
      if (opts.shouldStop()) break;
      const label = `${models[cell.model].spec.name} · ${cell.method.label}`;
      progress.start(label);
      const outcome = await runCell(cell, models[cell.model], sweep, store, versions, opts.memory);
      store.touchLock();
      if (outcome.computed) computedCells++;
      else cachedCells++;
      done++;
      if (outcome.record.status !== 'ok') failures.push(`${label}: ${outcome.record.status} (${outcome.record.reason})`);
      progress.done({ label, status: outcome.record.status, seconds: outcome.seconds, cached: !outcome.computed });
    }
  } finally {
    progress.stop();
  }
  lap('compute');

  if (done < owned.length) {
    io.err(`interrupted after ${done} of ${owned.length} cells; every finished cell is saved. Resume with: ${opts.resumeHint ?? '--resume'}`);
    return INTERRUPTED;
  }
  for (const f of failures) io.err(`  ${f}`);
  const tfjsModel = models.some((pm) => pm.spec.path !== undefined && tfjsModelJson(pm.spec.path) !== undefined);
  const run: RunRecord = {
    // tfjs is loaded only when a tfjs model was: then the backend that ran it is recorded.
    environment: environment(tfjsRecord(tfjsModel ? (await (await import('@blameboard/tfjs')).initTfjs()).backend : null)),
    phases,
    started: started.toISOString(),
    shard: manifest.shard,
    computedCells,
    cachedCells,
  };
  store.writeRun(run);
  if (shard) {
    io.err(`shard ${shard.k}/${shard.n} done: ${computedCells} computed, ${cachedCells} cached. Combine the shard folders with 'blameboard merge DIR… --out DIR'.`);
    return 0;
  }
  const formats = opts.formats ?? REPORT_FORMATS;
  const { results, samples } = collectResults(manifest, store, [run]);
  lap('aggregate');
  const pictures = formats.filter((f) => f !== 'json');
  const files = renderReport(results, samples, pictures, { heatmaps: pictures.includes('html') ? heatmapGrids(results, store) : [] });
  lap('render');
  // results.json last, so that its run record (the same object) holds the render phase too.
  if (formats.includes('json')) files.push(...renderReport(results, samples, ['json']));
  writeFilesAtomic(files.map((f) => ({ path: join(opts.out, f.name), data: f.data })));
  const md = files.find((f) => f.name === 'leaderboard.md');
  if (md) io.out(md.data);
  const total = Object.values(phases).reduce((s, v) => s + v, 0) / 1000;
  io.err(`sweep done in ${formatSeconds(total)} (${computedCells} cells computed, ${cachedCells} cached): ${opts.out}/${files.map((f) => f.name).join(', ')}`);
  return 0;
}

function modelInfo(pm: PlannedModel): Manifest['models'][number] {
  const shape = pm.inputs.shape.slice(1);
  const imageShape = pm.data.imageShape ?? (shape.length >= 3 ? shape : undefined);
  const info: ModelInfo & { pairSha256: string | null } = {
    id: pm.spec.name,
    sha256: pm.model.sha256,
    dataset: pm.dataset,
    samples: pm.inputs.shape[0],
    sampleKey: pm.sampleKey,
    inputShape: shape,
    ...(imageShape ? { imageShape: [...imageShape] } : {}),
    ...(pm.pair ? { pair: pm.pair.id } : {}),
    pairSha256: pm.pair ? pm.pair.model.sha256 : null,
  };
  return info;
}

/** Temp files of writes a killed process never renamed (we hold the lock: nobody else is writing). */
function removeStaleTemps(dir: string): void {
  for (const sub of ['', 'cache/cells', 'cache/attributions', 'cache/metrics', 'samples']) {
    const d = join(dir, sub);
    for (const f of readdirSync(d)) if (f.startsWith('.') && f.endsWith('.tmp')) rmSync(join(d, f), { force: true });
  }
}
