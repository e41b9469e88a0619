import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { float32, Rng } from '@blameboard/core';
import { CACHE_DIR_ENV, CACHE_MAX_ENV } from './compile-cache.js';
import { smallCnn, modelFrom } from '@blameboard/testing/method-models';

const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-compile-cache-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  delete process.env[CACHE_DIR_ENV];
  delete process.env[CACHE_MAX_ENV];
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh copy of the methods and core modules: a new process as far as every in-memory cache goes. */
async function freshProcess() {
  vi.resetModules();
  const compiled = await import('./compiled.js');
  const gradient = await import('./rules/gradient/index.js');
  const core = await import('@blameboard/core');
  return { ...compiled, ...gradient, core };
}

async function gradientOf(p: Awaited<ReturnType<typeof freshProcess>>, calls: { n: number }) {
  const model = await modelFrom(smallCnn(5), 'cache-test');
  const handle = await p.compiledHandle(model, 'gradient', 'gradient', () => (calls.n++, p.gradientRules()), { start: 'seed-input' });
  const x = float32([2, 2, 8, 8], new Rng(1).fillUniform(new Float32Array(256)));
  const out = await handle.session.run({ [handle.meta.inputNames.input]: x, [handle.meta.inputNames.seed]: p.oneHot([0, 2], 3) });
  await p.core.disposeSessions();
  return out[handle.meta.outputNames[0]].data;
}

describe('the compile cache on disk', () => {
  it('lets a second process skip the compile and give the same attributions', async () => {
    const dir = scratch();
    process.env[CACHE_DIR_ENV] = dir;
    const calls = { n: 0 };
    const cold = await gradientOf(await freshProcess(), calls);
    expect(calls.n).toBe(1);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.json$/);
    expect(files[1]).toMatch(/^[0-9a-f]{64}\.onnx$/);
    const warm = await gradientOf(await freshProcess(), calls);
    expect(calls.n).toBe(1); // the rules were never asked for: nothing compiled
    expect(warm).toEqual(cold);
  });

  it('compiles again over a damaged entry, and compiles every time when off', async () => {
    const dir = scratch();
    process.env[CACHE_DIR_ENV] = dir;
    const calls = { n: 0 };
    const cold = await gradientOf(await freshProcess(), calls);
    const onnx = readdirSync(dir).find((f) => f.endsWith('.onnx'))!;
    const size = statSync(path.join(dir, onnx)).size;
    writeFileSync(path.join(dir, onnx), Buffer.alloc(size, 7)); // same size, not ONNX
    expect(await gradientOf(await freshProcess(), calls)).toEqual(cold);
    expect(calls.n).toBe(2);
    expect(await gradientOf(await freshProcess(), calls)).toEqual(cold); // repaired: a hit again
    expect(calls.n).toBe(2);

    process.env[CACHE_DIR_ENV] = 'off';
    await gradientOf(await freshProcess(), calls);
    await gradientOf(await freshProcess(), calls);
    expect(calls.n).toBe(4);
  });

  it('keys by model: another model’s graph is never reused', async () => {
    process.env[CACHE_DIR_ENV] = scratch();
    const calls = { n: 0 };
    const p = await freshProcess();
    await gradientOf(p, calls);
    const other = await modelFrom(smallCnn(6), 'cache-test');
    await p.compiledHandle(other, 'gradient', 'gradient', () => (calls.n++, p.gradientRules()), { start: 'seed-input' });
    expect(calls.n).toBe(2);
    await p.core.disposeSessions();
  });

  it('evicts the least recently used entries beyond BLAMEBOARD_CACHE_MAX', async () => {
    const dir = scratch();
    process.env[CACHE_DIR_ENV] = dir;
    process.env[CACHE_MAX_ENV] = '1K'; // smaller than one entry: only the newest stays
    const p = await freshProcess();
    for (const seed of [7, 8, 9]) {
      const model = await modelFrom(smallCnn(seed), `evict-${seed}`);
      await p.compiledHandle(model, 'gradient', 'gradient', () => p.gradientRules(), { start: 'seed-input' });
    }
    expect(readdirSync(dir)).toHaveLength(2);
    await p.core.disposeSessions();
  });
});
