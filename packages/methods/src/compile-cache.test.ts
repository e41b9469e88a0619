import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  delete process.env.BLAMEBOARD_PARALLEL;
  delete process.env.BLAMEBOARD_THREADS;
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

  it('keeps the run mode it measured beside the graph; worker sessions and one session give the same attributions', async () => {
    const dir = scratch();
    process.env[CACHE_DIR_ENV] = dir;
    process.env.BLAMEBOARD_THREADS = '2';
    const model = await modelFrom(smallCnn(5), 'parallel-test');
    const x = float32([16, 2, 8, 8], new Rng(2).fillUniform(new Float32Array(16 * 128)));
    const attributions = async (p: Awaited<ReturnType<typeof freshProcess>>) => {
      const handle = await p.compiledHandle(model, 'gradient', 'gradient', () => p.gradientRules(), { start: 'seed-input' });
      const modeBefore = handle.session.mode;
      const out = await handle.session.run({ [handle.meta.inputNames.input]: x, [handle.meta.inputNames.seed]: p.oneHot(Array.from({ length: 16 }, (_, i) => i % 3), 3) });
      await p.core.disposeSessions();
      return { modeBefore, data: Array.from(out[handle.meta.outputNames[0]].data as Float32Array) };
    };
    const measured = await attributions(await freshProcess());
    expect(measured.modeBefore).toBeUndefined(); // nothing stored yet: the first run measured both modes
    const stored = readdirSync(dir).find((f) => f.endsWith('.parallel.json'))!;
    expect(stored).toMatch(/^[0-9a-f]{64}\.parallel\.json$/);
    const choices = JSON.parse(readFileSync(path.join(dir, stored), 'utf8')) as Record<string, { mode: string; basis: string; msPerRow: Record<string, number> }>;
    const [machine, choice] = Object.entries(choices)[0];
    expect(machine).toMatch(/threads 2; onnxruntime /);
    expect(['session', 'workers']).toContain(choice.mode);
    expect(choice.basis).toBe('first runs');
    expect(choice.msPerRow.session).toBeGreaterThan(0);
    expect(choice.msPerRow.workers).toBeGreaterThan(0);
    const again = await attributions(await freshProcess());
    expect(again.modeBefore).toBe(choice.mode); // the next process uses the stored choice
    expect(again.data).toEqual(measured.data);
    for (const mode of ['session', 'workers']) {
      process.env.BLAMEBOARD_PARALLEL = mode;
      expect((await attributions(await freshProcess())).data).toEqual(measured.data);
    }
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
