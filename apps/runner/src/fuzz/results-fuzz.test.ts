import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, Rng, saveNpy } from '@blameboard/core';
import { runCli } from '../test-utils.js';
import { caseSeed, cleanup, FUZZ_SCALE, fuzzCase, FuzzLog, scratch } from './test-utils/harness.js';
import { denseModel } from './test-utils/models.js';

/**
 * Damaged sweep folders through `report`, `merge` and `sweep --resume`: the manifest, run record,
 * results, per-sample lines and cache entries mutated, truncated, or replaced by a FIFO, a
 * folder or a link to /dev/zero. A folder is the user's to edit, move or break.
 */

const CASES = 200 * FUZZ_SCALE;
const log = new FuzzLog();
const root = scratch('results');
const base = join(root, 'base');
afterAll(async () => {
  await disposeSessions();
  cleanup(root);
});

const config = { models: [{ name: 'dense', path: 'model.onnx', inputs: 'x.npy' }], methods: [{ method: 'gradient' }, { method: 'uniform' }], metrics: [{ metric: 'sparseness' }, { metric: 'selectivity', params: { steps: 4 } }], heatmapSamples: 1 };

beforeAll(async () => {
  writeFileSync(
    join(root, 'model.onnx'),
    denseModel('none'),
  );
  saveNpy(join(root, 'x.npy'), float32([3, 6], Array.from({ length: 18 }, (_, i) => (i % 5) / 5)));
  writeFileSync(join(root, 'sweep.json'), JSON.stringify(config));
  const run = await runCli('sweep', '--config', join(root, 'sweep.json'), '--out', base);
  expect(run.code, run.stderr).toBe(0);
});

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

/** Every file under a folder, relative. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name).slice(dir.length + 1));
}

const HOSTILE: unknown[] = [null, true, 0, -1, 1e308, '', 'x', [], {}, [1], { a: 1 }, '../../etc/passwd', 'NaN', Array.from({ length: 3 }, () => null)];

function mutateJson(value: unknown, rng: Rng): string {
  const all: [Record<string | number, unknown>, string | number][] = [];
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      all.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
      walk(x);
    }
  };
  walk(value);
  if (all.length === 0) return 'nothing to change';
  const [parent, key] = pick(rng, all);
  if (rng.next() < 0.3) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return `removed ${String(key)}`;
  }
  const v = structuredClone(pick(rng, HOSTILE));
  parent[key] = v;
  return `${String(key)} = ${JSON.stringify(v)}`;
}

describe('fuzz: damaged sweep folders', () => {
  it(`${CASES} seeded cases through report, merge and sweep --resume`, async () => {
    const all = files(base).filter((f) => !f.endsWith('.html') && !f.endsWith('.md') && !f.endsWith('.csv'));
    for (let i = 0; i < CASES; i++) {
      const rng = new Rng(caseSeed(6, i));
      const dir = join(root, `case-${i}`);
      const folder = join(dir, 'sweep');
      mkdirSync(dir);
      cpSync(base, folder, { recursive: true });
      for (const f of ['model.onnx', 'x.npy', 'sweep.json']) cpSync(join(root, f), join(dir, f));
      const file = pick(rng, all);
      const path = join(folder, file);
      let label: string;
      const kind = rng.int(10);
      if (kind < 5 && file.endsWith('.json')) {
        const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
        label = mutateJson(doc, rng);
        writeFileSync(path, JSON.stringify(doc));
      } else if (kind < 6 && file.endsWith('.ndjson')) {
        const lines = readFileSync(path, 'utf8').split('\n');
        const at = rng.int(lines.length);
        if (lines[at]) {
          const doc = JSON.parse(lines[at]) as unknown;
          label = mutateJson(doc, rng);
          lines[at] = JSON.stringify(doc);
        } else label = 'empty line';
        writeFileSync(path, lines.join('\n'));
      } else if (kind < 8) {
        const bytes = readFileSync(path);
        if (rng.next() < 0.5) {
          const at = rng.int(bytes.length + 1);
          writeFileSync(path, bytes.subarray(0, at));
          label = `truncated at ${at}`;
        } else {
          for (let k = 0; k < 3; k++) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
          writeFileSync(path, bytes);
          label = '3 bit flips';
        }
      } else {
        rmSync(path);
        const what = pick(rng, ['removed', 'fifo', 'folder', '/dev/zero']);
        if (what === 'fifo') execFileSync('mkfifo', [path]);
        else if (what === 'folder') mkdirSync(path);
        else if (what === '/dev/zero') symlinkSync('/dev/zero', path);
        label = what;
      }
      const command = pick(rng, ['report', 'report', 'merge', 'resume']);
      const out = join(dir, 'out');
      const argv =
        command === 'report'
          ? ['report', folder, '--out', out, ...(rng.next() < 0.5 ? ['--format', pick(rng, ['md', 'json', 'html', 'csv', 'md,html'])] : [])]
          : command === 'merge'
            ? ['merge', folder, '--out', out]
            : ['sweep', '--config', join(dir, 'sweep.json'), '--out', folder, '--resume'];
      await fuzzCase(log, {
        family: command,
        label: `case ${i} (seed ${caseSeed(6, i)}): ${file}: ${label}`,
        argv,
        dir,
        timeoutMs: 30_000,
        check: () => (command === 'resume' || readdirSync(out).length > 0 ? null : 'an empty output folder'),
      });
      cleanup(dir);
    }
    console.log(log.summary('damaged sweep folders'));
    expect(log.failures).toEqual([]);
    expect(log.cases).toBe(CASES);
  }, 600_000);
});
