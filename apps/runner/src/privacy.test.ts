import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { float32, saveNpy } from '@blameboard/core';

const RUNNER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Every file under a folder, hidden ones included. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }) as string[];
}

describe('privacy', () => {
  it('leaves HOME and TMPDIR empty: onnxruntime telemetry is off, and its log never reaches stderr', () => {
    const home = mkdtempSync(join(tmpdir(), 'bb-home-'));
    const temp = mkdtempSync(join(tmpdir(), 'bb-tmp-'));
    const work = mkdtempSync(join(tmpdir(), 'bb-work-'));
    // The one thing Blameboard keeps between runs, its compile cache, goes where it is told (by
    // default ~/.cache/blameboard, documented): here a folder of its own, so HOME must stay empty.
    const cache = mkdtempSync(join(tmpdir(), 'bb-cache-'));
    saveNpy(join(work, 'x.npy'), float32([3, 784], new Float32Array(3 * 784).map((_, i) => (i % 11) / 11)));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, TMPDIR: temp, TSX_DISABLE_CACHE: '1', BLAMEBOARD_CACHE_DIR: cache };
    for (const argv of [
      ['predict', '--model', 'mnist-mlp', '--inputs', join(work, 'x.npy'), '--out', join(work, 'logits.npy')],
      ['explain', '--model', 'mnist-mlp', '--inputs', join(work, 'x.npy'), '--method', 'lrp', '--out', join(work, 'a.npy')],
    ]) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...argv], { cwd: RUNNER_DIR, env, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
      expect(run.stderr).toMatch(/^(wrote logits|lrp: 3 inputs)/);
    }
    expect(listing(home)).toEqual([]);
    expect(listing(temp)).toEqual([]);
    expect(listing(cache).some((f) => f.endsWith('.onnx'))).toBe(true);
  });

  it('survives a command line of 50k characters (onnxruntime\u2019s telemetry read /proc/self/cmdline and crashed past ~28.9k)', () => {
    const work = mkdtempSync(join(tmpdir(), 'bb-work-'));
    saveNpy(join(work, 'x.npy'), float32([2, 784], new Float32Array(2 * 784).fill(0.5)));
    const params = JSON.stringify({ layerRules: Array.from({ length: 1200 }, () => ({ layer: 0, rule: 'epsilon', epsilon: 0.1 })) });
    expect(params.length).toBeGreaterThan(50_000);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'explain', '--model', 'mnist-mlp', '--inputs', join(work, 'x.npy'), '--method', 'lrp', '--params', params, '--out', join(work, 'a.npy')], {
      cwd: RUNNER_DIR,
      env: { ...process.env, ORT_DISABLE_TELEMETRY: undefined },
      encoding: 'utf8',
    });
    expect(run.signal).toBeNull();
    expect(run.status, run.stderr).toBe(0);
  });
});
