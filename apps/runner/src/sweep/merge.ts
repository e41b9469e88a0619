import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError, UsageError, writeFilesAtomic } from '@blameboard/core';
import { renderReport, type RunRecord } from '@blameboard/reports';
import type { Io } from '../io.js';
import { collectResults } from './collect.js';
import { SweepStore, type Manifest } from './store.js';

/** The first place where two JSON values differ, as "POINTER: A vs B"; null when equal. */
export function firstDifference(a: unknown, b: unknown, pointer = ''): string | null {
  if (a === b) return null;
  const show = (v: unknown) => {
    const t = JSON.stringify(v) ?? 'absent';
    return t.length > 60 ? `${t.slice(0, 57)}…` : t;
  };
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a) ? Array.from({ length: Math.max(a.length, (b as unknown[]).length) }, (_, i) => String(i)) : [...new Set([...Object.keys(a), ...Object.keys(b as object)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${pointer}/${k}`);
      if (d) return d;
    }
    return null;
  }
  return `${pointer || '/'}: ${show(a)} vs ${show(b)}`;
}

/** What must agree between shards of one sweep (all of the manifest but the shard's own part). */
const SHARED: (keyof Manifest)[] = ['versions', 'config', 'configHash', 'seed', 'models', 'metricConfigs', 'cells'];

/**
 * Combines the folders of a sharded sweep into one results folder (results.json, samples.ndjson
 * and the cache the reports' heatmaps read). Shards of different configs or versions are refused,
 * naming the first difference; so is a set of shards that leaves a cell uncomputed.
 */
export function mergeShards(dirs: string[], out: string, io: Io): number {
  if (dirs.length === 0) throw new UsageError('give the shard folders to merge: blameboard merge DIR… --out DIR');
  const outAbs = resolve(out);
  const stores = dirs.map((d) => {
    if (resolve(d) === outAbs) throw new UsageError(`--out ${out} is one of the shard folders; merge into a new folder`);
    const store = new SweepStore(d);
    const manifest = store.readManifest();
    if (!manifest) throw new InputError(`${d} is not a sweep folder (no sweep.json)`);
    return { dir: d, store, manifest };
  });
  const first = stores[0];
  for (const other of stores.slice(1)) {
    for (const field of SHARED) {
      const diff = firstDifference(first.manifest[field], other.manifest[field], `/${field}`);
      if (diff) {
        const what = field === 'versions' ? 'package versions' : field === 'cells' || field === 'models' || field === 'metricConfigs' ? 'plan' : 'config';
        throw new InputError(`${other.dir} is a shard of a different sweep than ${first.dir}: its ${what} differs at ${diff}`);
      }
    }
  }
  const seenShards = new Map<string, string>();
  for (const s of stores) {
    const id = s.manifest.shard ?? 'whole';
    const other = seenShards.get(id);
    if (other && id !== 'whole') throw new InputError(`${s.dir} and ${other} are both shard ${id}`);
    seenShards.set(id, s.dir);
  }
  const holder = new Map<string, SweepStore>();
  for (const s of stores) for (const key of s.manifest.owned) if (s.store.cell(key)) holder.set(key, s.store);
  const missing = first.manifest.cells.filter((c) => !holder.has(c.key));
  if (missing.length) {
    throw new InputError(`the shards leave ${missing.length} of ${first.manifest.cells.length} cells uncomputed (first: ${missing[0].model} · ${missing[0].label}); finish or add the missing shard(s)`);
  }

  const target = new SweepStore(out);
  if (target.hasSweep()) throw new UsageError(`${out} already holds a sweep; merge into a new folder`);
  // Everything is built in a staging folder beside --out and renamed into place at the end: a
  // merge that fails (a damaged shard, a full disk) leaves nothing behind.
  const staging = join(dirname(outAbs), `.bb-merge-${process.pid}-${randomBytes(4).toString('hex')}`);
  const stage = new SweepStore(staging);
  try {
    stage.ensure();
    // Content-keyed files are identical wherever they were computed: copy each once.
    for (const s of stores) {
      for (const sub of ['cache/cells', 'cache/attributions', 'cache/metrics', 'samples']) {
        const from = join(s.dir, sub);
        if (!existsSync(from)) continue;
        for (const f of readdirSync(from)) {
          if (f.startsWith('.')) continue;
          const to = join(staging, sub, f);
          // Cache entries are regular files: anything else (a FIFO would block the copy, a folder
          // fail it) is a damaged entry, as good as absent.
          if (!existsSync(to) && isRegularFile(join(from, f))) copyFileSync(join(from, f), to);
        }
      }
    }
    const manifest: Manifest = { ...first.manifest, shard: null, owned: first.manifest.cells.map((c) => c.key) };
    stage.writeManifest(manifest);
    const runs = stores
      .map((s) => s.store.readRun())
      .filter((r): r is RunRecord => r !== null)
      .sort((a, b) => shardIndex(a.shard) - shardIndex(b.shard));
    if (runs.length === 0) throw new InputError(`none of the shard folders has a run record (run.json): were the shards finished?`);
    const { results, samples } = collectResults(manifest, stage, runs);
    writeFilesAtomic(renderReport(results, samples, ['json']).map((f) => ({ path: join(staging, f.name), data: f.data })));
    try {
      // An empty folder given as --out is replaced; anything else in the way is refused.
      renameSync(staging, outAbs);
    } catch (e) {
      throw new UsageError(`cannot write the merged sweep to ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    io.err(`merged ${stores.length} shard folder${stores.length === 1 ? '' : 's'} (${manifest.cells.length} cells) into ${out}; render it with 'blameboard report ${out} --out DIR'`);
    return 0;
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

function shardIndex(shard: string | null): number {
  return shard ? Number(shard.split('/')[0]) : 0;
}
