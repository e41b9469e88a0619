import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError, loadNpy, readRegularFile, UsageError, writeFileAtomic, npyParts, type Tensor } from '@blameboard/core';
import type { CellStatus, Direction, MethodConfiguration, MetricConfig, MetricStatus, ModelInfo, RunRecord } from '@blameboard/reports';

/**
 * A sweep's folder:
 *   sweep.json                  what was planned (config, hash, versions, shard, cell keys)
 *   run.json                    a shard's run record (timings, environment), for merge
 *   .lock                       the running sweep's pid (one runner per folder)
 *   cache/cells/KEY.json        a cell's status and cost
 *   cache/attributions/KEY.npy  its attributions
 *   cache/metrics/KEY.json      one metric configuration's per-sample values on it
 *   samples/MODEL.npy           the fixed heatmap samples of each model
 *   results.json, samples.ndjson, leaderboard.md, leaderboard.csv, index.html
 * Every file is written atomically (temp + rename), so an interrupted run leaves only whole files.
 */
export const MANIFEST_FILE = 'sweep.json';
const LOCK_FILE = '.lock';
/** The lock's holder touches it this often; a lock untouched for LOCK_STALE_MS is abandoned (a pod that died on another node). */
const LOCK_HEARTBEAT_MS = 30_000;
export const LOCK_STALE_MS = 10 * 60_000;
const RUN_FILE = 'run.json';

export interface CellRecord {
  key: string;
  status: CellStatus;
  reason?: string;
  explainMs: number;
  samples: number;
  /** Peak RSS while the cell's attributions and metrics ran; null where unmeasurable. */
  peakRssBytes: number | null;
  /** Resident memory when the cell started: peak − start is what the cell itself added. */
  startRssBytes?: number;
  /** `bias: explicit` LRP: the bias relevance conservation adds back. */
  biasRelevance?: { layer: string; perSample: number[] }[];
}

export interface MetricRecord {
  key: string;
  config: string;
  status: MetricStatus;
  reason?: string;
  values: Record<string, { direction: Direction; perSample: (number | null)[] }>;
  curves?: { morf?: number[]; lerf?: number[] };
  invalidSamples?: number;
  ms: number;
}

/** One planned cell as the manifest keeps it: enough to rebuild results without loading a model. */
export interface ManifestCell extends MethodConfiguration {
  key: string;
  /** ModelInfo.id. */
  model: string;
}

/**
 * What a sweep folder holds and how it was planned. Shards of one sweep have equal manifests but
 * for `shard` and `owned`; `merge` compares them and rebuilds results from the manifest alone.
 */
export interface Manifest {
  schema: 'blameboard-sweep';
  name: string;
  configHash: string;
  config: Record<string, unknown>;
  versions: Record<string, string>;
  seed: number;
  heatmapSamples: number;
  models: (ModelInfo & { pairSha256: string | null })[];
  metricConfigs: MetricConfig[];
  /** Every cell of the whole sweep, in config order (every shard lists all of them). */
  cells: ManifestCell[];
  /** 'K/N' or null for the whole sweep. */
  shard: string | null;
  /** The keys this folder computes. */
  owned: string[];
}

export class SweepStore {
  constructor(readonly dir: string) {}

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  ensure(): void {
    for (const sub of ['cache/cells', 'cache/attributions', 'cache/metrics', 'samples']) mkdirSync(this.path(sub), { recursive: true });
  }

  /** True when the folder holds a sweep already (a manifest or cached cells). */
  hasSweep(): boolean {
    return existsSync(this.path(MANIFEST_FILE)) || (existsSync(this.path('cache/cells')) && readdirSync(this.path('cache/cells')).length > 0);
  }

  readManifest(): Manifest | null {
    const file = this.path(MANIFEST_FILE);
    if (!existsSync(file)) return null;
    try {
      const m = JSON.parse(readText(file)) as Manifest;
      const problem = manifestProblem(m);
      if (problem) throw new Error(problem);
      return m;
    } catch (e) {
      throw new InputError(`${file} is not a sweep manifest (${(e as Error).message})`);
    }
  }

  writeManifest(m: Manifest): void {
    writeFileAtomic(this.path(MANIFEST_FILE), JSON.stringify(m, null, 2) + '\n');
  }

  cell(key: string): CellRecord | null {
    const record = readJson<CellRecord>(this.path('cache/cells', `${key}.json`));
    return record && isCellRecord(record, key) ? record : null;
  }

  writeCell(record: CellRecord, attributions: Tensor | null): void {
    // Attributions first: a cell record only ever names attributions that exist.
    if (attributions) writeFileAtomic(this.path('cache/attributions', `${record.key}.npy`), npyParts(attributions));
    writeFileAtomic(this.path('cache/cells', `${record.key}.json`), JSON.stringify(record) + '\n');
  }

  attributions(key: string): Tensor | null {
    const file = this.path('cache/attributions', `${key}.npy`);
    return existsSync(file) ? loadNpy(file) : null;
  }

  metric(key: string): MetricRecord | null {
    const record = readJson<MetricRecord>(this.path('cache/metrics', `${key}.json`));
    return record && isMetricRecord(record, key) ? record : null;
  }

  writeMetric(record: MetricRecord): void {
    writeFileAtomic(this.path('cache/metrics', `${record.key}.json`), JSON.stringify(record) + '\n');
  }

  /** A shard's run record (timings, environment), kept for the merged results. */
  writeRun(run: RunRecord): void {
    writeFileAtomic(this.path(RUN_FILE), JSON.stringify(run, null, 2) + '\n');
  }

  readRun(): RunRecord | null {
    return readJson<RunRecord>(this.path(RUN_FILE));
  }

  samplesFile(model: number): string {
    return this.path('samples', `model-${model}.npy`);
  }

  /** Marks the lock as alive (also called after every cell, since a long onnxruntime run blocks timers). */
  touchLock(): void {
    const now = new Date();
    try {
      utimesSync(this.path(LOCK_FILE), now, now);
    } catch {
      // not held
    }
  }

  /**
   * Takes the folder's lock: a second runner is refused, naming the holder. A lock is stale, and
   * taken over, when its process is gone (same host, pid not alive) or when nobody has touched it
   * for LOCK_STALE_MS (its holder ran on another machine or pod and died there).
   */
  lock(): () => void {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new UsageError(`cannot use '${this.dir}' as the sweep folder: ${fsProblem(e)}`);
    }
    const file = this.path(LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }));
        closeSync(fd);
        const heartbeat = setInterval(() => this.touchLock(), LOCK_HEARTBEAT_MS);
        heartbeat.unref();
        let released = false;
        return () => {
          if (released) return;
          released = true;
          clearInterval(heartbeat);
          rmSync(file, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`cannot take the lock ${file}: ${fsProblem(e)}`);
        const holder = readJson<{ pid: number; host: string; started: string }>(file);
        if ((holder && holder.host === hostname() && !alive(holder.pid)) || untouchedFor(file) > LOCK_STALE_MS) {
          rmSync(file, { force: true });
          continue;
        }
        const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.started}` : 'an unreadable lock';
        throw new UsageError(`${this.dir} is in use by another sweep (${who}); wait for it, or remove ${file} if that process is gone`);
      }
    }
    throw new UsageError(`cannot take the lock ${file}`);
  }
}

// A sweep folder is the user's to move, edit or damage. A cache record of the wrong shape is as
// good as absent (it is recomputed, or merge says it is missing); a manifest of the wrong shape
// is refused with what is wrong. Only the fields results are built from are checked.

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isNumberOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));
const CELL_STATUSES: readonly string[] = ['ok', 'invalid', 'error'];
const DIRECTIONS: readonly string[] = ['higher', 'lower'];

function isCellRecord(r: unknown, key: string): r is CellRecord {
  return (
    isObject(r) &&
    r.key === key &&
    CELL_STATUSES.includes(r.status as string) &&
    (r.reason === undefined || typeof r.reason === 'string') &&
    isCount(r.explainMs) &&
    isCount(r.samples) &&
    isNumberOrNull(r.peakRssBytes) &&
    (r.startRssBytes === undefined || isCount(r.startRssBytes))
  );
}

function isMetricRecord(r: unknown, key: string): r is MetricRecord {
  if (!isObject(r) || r.key !== key || typeof r.config !== 'string' || typeof r.status !== 'string' || !isCount(r.ms) || !isObject(r.values)) return false;
  if (r.reason !== undefined && typeof r.reason !== 'string') return false;
  if (r.invalidSamples !== undefined && !isCount(r.invalidSamples)) return false;
  if (r.curves !== undefined && !(isObject(r.curves) && Object.values(r.curves).every((c) => Array.isArray(c) && c.every((x) => typeof x === 'number')))) return false;
  return Object.values(r.values).every((v) => isObject(v) && DIRECTIONS.includes(v.direction as string) && Array.isArray(v.perSample) && v.perSample.every(isNumberOrNull));
}

/** What is wrong with a parsed sweep.json, or null. */
function manifestProblem(m: unknown): string | null {
  if (!isObject(m) || m.schema !== 'blameboard-sweep') return 'not a sweep manifest';
  if (!isObject(m.config) || typeof m.configHash !== 'string' || typeof m.seed !== 'number' || typeof m.heatmapSamples !== 'number') return 'its config, hash or seed is damaged';
  if (!isObject(m.versions) || !Object.values(m.versions).every((v) => typeof v === 'string')) return 'its versions are damaged';
  if (!Array.isArray(m.models) || !m.models.every((x) => isObject(x) && typeof x.id === 'string' && (x.pairSha256 === null || typeof x.pairSha256 === 'string'))) return 'its models are damaged';
  if (!Array.isArray(m.metricConfigs) || !m.metricConfigs.every((x) => isObject(x) && typeof x.label === 'string' && typeof x.metric === 'string' && isObject(x.params))) return 'its metric configurations are damaged';
  const cellOk = (c: unknown) => isObject(c) && ['key', 'model', 'family', 'method', 'label'].every((k) => typeof c[k] === 'string') && isObject(c.params) && isObject(c.axes) && typeof c.control === 'boolean';
  if (!Array.isArray(m.cells) || !m.cells.every(cellOk)) return 'its cells are damaged';
  if (!Array.isArray(m.owned) || !m.owned.every((k) => typeof k === 'string')) return 'its owned cells are damaged';
  if (m.shard !== null && typeof m.shard !== 'string') return 'its shard is damaged';
  return null;
}

/** A file-system error in words: `--out` may name anything (a FIFO, a device, a dangling link). */
function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return 'it (or a folder on its path) exists and is not a folder';
    case 'ENOENT':
      return 'it is a dangling link or an empty path';
    case 'ELOOP':
      return 'a symbolic link on its path loops';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'permission denied';
    default:
      return code ?? String(e);
  }
}

function untouchedFor(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A sweep folder's JSON file as text: a regular file only (a FIFO or a link to /dev/zero is refused, not read). */
function readText(file: string): string {
  return new TextDecoder().decode(readRegularFile(file, (why) => new Error(why), MAX_RECORD_BYTES));
}

/** The largest manifest or record read (a manifest of 10,000 × 100 cells is ≈ 300 MB). */
const MAX_RECORD_BYTES = 2 ** 30;

function readJson<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readText(file)) as T;
  } catch {
    // A cache entry that does not parse is as good as absent: it is recomputed.
    return null;
  }
}
