import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultThreads, onnxruntimeVersion } from '@blameboard/core';
import type { Environment } from '@blameboard/reports';

/** A package's folder, found the way Node resolves it: node_modules of this file's folder and up. */
function packageDir(name: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** sha256 over a folder's .js files (relative path and content, sorted): which build ran. */
function buildDigest(dir: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.js')) files.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  const h = createHash('sha256');
  for (const f of files) h.update(relative(dir, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 12);
}

/**
 * The versions cache keys include: each package's version plus a digest of its built code (so a
 * rebuilt `methods` never reuses attributions an older build computed), and onnxruntime's.
 */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['core', 'methods', 'metrics', 'reports']) {
    const dir = packageDir(`@blameboard/${name}`);
    if (!dir) continue;
    const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
    out[name] = `${version}+${buildDigest(join(dir, 'dist'))}`;
  }
  out.onnxruntime = onnxruntimeVersion();
  return out;
}

let commit: string | null | undefined;

function gitCommit(): string | null {
  if (commit !== undefined) return commit;
  if (process.env.GITHUB_SHA) return (commit = process.env.GITHUB_SHA);
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dirname(fileURLToPath(import.meta.url)), stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString()
      .trim();
  } catch {
    commit = null;
  }
  return commit;
}

/**
 * The tfjs version installed and the backend that ran, if any: ONNX work never starts tfjs, so
 * `backend` is null unless the sweep imported a tfjs model.json.
 */
export function tfjsRecord(backend: string | null): Environment['tfjs'] {
  const dir = packageDir('@tensorflow/tfjs-core') ?? (packageDir('@blameboard/tfjs') && join(packageDir('@blameboard/tfjs')!, 'node_modules/@tensorflow/tfjs-core'));
  if (!dir || !existsSync(join(dir, 'package.json'))) return null;
  return { version: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string, backend };
}

export function environment(tfjs: Environment['tfjs'] = tfjsRecord(null)): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus[0]?.model?.trim() || 'unknown',
    cpus: Math.max(1, os.availableParallelism()),
    threads: defaultThreads(),
    onnxruntime: onnxruntimeVersion(),
    tfjs,
    gitCommit: gitCommit(),
    hostname: os.hostname(),
  };
}
