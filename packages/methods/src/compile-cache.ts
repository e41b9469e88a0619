import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMemory, type ChoiceStore, type CompiledGraph, type CompileOptions, type ModeChoice } from '@blameboard/core';

/** Environment variable naming the compile cache's folder; `off` (or empty) turns the cache off. */
export const CACHE_DIR_ENV = 'BLAMEBOARD_CACHE_DIR';
/** Environment variable bounding the cache's size on disk (same syntax as --memory: 4G, 512M). */
export const CACHE_MAX_ENV = 'BLAMEBOARD_CACHE_MAX';
/** Default bound on the cache's size: a few ImageNet-scale LRP graphs (resnet50's is ≈ 290 MB). */
export const DEFAULT_CACHE_MAX = 4 * 2 ** 30;

/** The compiled graph's names and what its activations cost per row: everything but the ONNX bytes. */
export interface CachedMeta {
  meta: Omit<CompiledGraph, 'graph'>;
  rowBytes: number;
  weightBytes: number;
}

let configured: string | null = null;

/**
 * Turns the on-disk cache of compiled graphs on (a folder) or off (null) for this process. The
 * CLI turns it on at its default folder; a library caller opts in here or with
 * BLAMEBOARD_CACHE_DIR, which wins over both.
 */
export function useCompileCache(dir: string | null): void {
  configured = dir;
}

/** The user's cache folder for compiled graphs: XDG_CACHE_HOME (or ~/.cache) on Linux, the OS's own elsewhere. */
export function defaultCacheDir(): string {
  const home = os.homedir();
  const base =
    process.platform === 'darwin'
      ? path.join(home, 'Library', 'Caches')
      : process.platform === 'win32'
        ? (process.env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'))
        : (process.env.XDG_CACHE_HOME || path.join(home, '.cache'));
  return path.join(base, 'blameboard', 'compiled');
}

/** The folder in use, or null when the cache is off. */
export function compileCacheDir(): string | null {
  const env = process.env[CACHE_DIR_ENV];
  if (env !== undefined) return env === '' || env === 'off' ? null : path.resolve(env);
  return configured;
}

let fingerprint: string | undefined;

/**
 * What the compiled graphs of this process depend on besides the model and the configuration:
 * the methods and core versions, and the code itself (every .js/.ts file of the running methods
 * sources and of core's build), so a rule changed in a checkout never meets a graph compiled
 * before the change.
 */
export function codeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = createHash('sha256');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const core = packageDir(here, '@blameboard/core');
  const roots = [here, ...(core ? [path.join(core, 'dist')] : [])];
  for (const pkg of [path.join(here, '..', 'package.json'), ...(core ? [path.join(core, 'package.json')] : [])]) {
    try {
      const { name, version } = JSON.parse(readFileSync(pkg, 'utf8')) as { name: string; version: string };
      h.update(`${name}@${version}\n`);
    } catch {
      h.update(`${pkg}: unreadable\n`);
    }
  }
  for (const root of roots) {
    for (const file of codeFiles(root)) {
      h.update(path.relative(root, file));
      h.update(readFileSync(file));
    }
  }
  fingerprint = h.digest('hex');
  return fingerprint;
}

/** The folder of an installed package, found as Node finds it: in node_modules up from `from`. */
function packageDir(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function codeFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') out.push(...codeFiles(p));
    } else if (/\.(js|ts)$/.test(e.name) && !/\.d\.ts$|\.test\.(js|ts)$/.test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

/** The cache key of one compiled graph: model bytes, method, configuration, compile options and code. */
export function compileKey(model: string, methodId: string, configKey: string, opts: CompileOptions): string {
  return createHash('sha256').update(JSON.stringify({ model, methodId, configKey, opts, code: codeFingerprint() })).digest('hex');
}

export interface CacheEntry {
  onnxPath: string;
  meta: CachedMeta;
}

/** The cached graph for `key`, or undefined. A hit is touched, so eviction drops the least recently used. */
export function readCached(dir: string, key: string): CacheEntry | undefined {
  const onnxPath = path.join(dir, `${key}.onnx`);
  const metaPath = path.join(dir, `${key}.json`);
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CachedMeta & { bytes: number };
    if (statSync(onnxPath).size !== meta.bytes) return undefined;
    const now = new Date();
    utimesSync(metaPath, now, now);
    return { onnxPath, meta };
  } catch {
    return undefined;
  }
}

/** Drops an entry onnxruntime could not load (a damaged file); the graph is compiled again. */
export function dropCached(dir: string, key: string): void {
  for (const ext of ['.onnx', '.json', '.parallel.json']) rmSync(path.join(dir, `${key}${ext}`), { force: true });
}

/**
 * Where a compiled graph's measured run mode (one session or worker sessions) is kept: beside
 * the graph, as `<key>.parallel.json`, one choice per machine fingerprint (a cache folder may be
 * shared by machines). Best effort both ways: an unreadable file is no choice, an unwritable
 * folder keeps none.
 */
export function choiceStore(dir: string, key: string): ChoiceStore {
  const file = path.join(dir, `${key}.parallel.json`);
  const readAll = (): Record<string, ModeChoice> => {
    try {
      const all = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return all && typeof all === 'object' && !Array.isArray(all) ? (all as Record<string, ModeChoice>) : {};
    } catch {
      return {};
    }
  };
  return {
    load(machine) {
      const c = readAll()[machine] as Partial<ModeChoice> | undefined;
      const valid =
        c && (c.mode === 'session' || c.mode === 'workers') && (c.basis === 'first runs' || c.basis === 'steady runs') && typeof c.msPerRow === 'object' && c.msPerRow !== null;
      return valid ? { ...(c as ModeChoice), machine } : undefined;
    },
    save(choice) {
      try {
        const all = readAll();
        all[choice.machine] = choice;
        writeAtomic(file, Buffer.from(JSON.stringify(all, null, 2) + '\n'));
      } catch {
        // the choice is measured again next time
      }
    },
  };
}

/**
 * Stores a compiled graph: the ONNX first, then its meta, each written to a temporary name and
 * renamed, so a reader sees a whole entry or none (the meta names the ONNX's size). Best
 * effort: a folder that cannot be written leaves the run uncached, not failed.
 */
export function writeCached(dir: string, key: string, onnx: Uint8Array, meta: CachedMeta): boolean {
  const max = cacheMax();
  try {
    mkdirSync(dir, { recursive: true });
    writeAtomic(path.join(dir, `${key}.onnx`), onnx);
    writeAtomic(path.join(dir, `${key}.json`), Buffer.from(JSON.stringify({ ...meta, bytes: onnx.byteLength })));
    evict(dir, max);
    return true;
  } catch {
    return false;
  }
}

function writeAtomic(file: string, data: Uint8Array): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let at = 0;
      while (at < data.byteLength) at += writeSync(fd, data, at, data.byteLength - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function cacheMax(): number {
  const text = process.env[CACHE_MAX_ENV];
  return text ? parseMemory(text, CACHE_MAX_ENV, 0) : DEFAULT_CACHE_MAX;
}

/** Removes the least recently used entries (by their meta's mtime) until the folder holds at most `max` bytes. */
function evict(dir: string, max: number): void {
  const entries = new Map<string, { size: number; used: number }>();
  for (const name of readdirSync(dir)) {
    const m = /^([0-9a-f]{64})\.(onnx|json|parallel\.json)$/.exec(name);
    if (!m) continue;
    const st = statSync(path.join(dir, name));
    const e = entries.get(m[1]) ?? { size: 0, used: 0 };
    e.size += st.size;
    if (m[2] === 'json') e.used = st.mtimeMs;
    entries.set(m[1], e);
  }
  let total = [...entries.values()].reduce((n, e) => n + e.size, 0);
  for (const [key, e] of [...entries].sort((a, b) => a[1].used - b[1].used)) {
    if (total <= max || entries.size <= 1) break;
    dropCached(dir, key);
    entries.delete(key);
    total -= e.size;
  }
}
