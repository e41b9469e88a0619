import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);
const ENV = 'BLAMEBOARD_TFJS_BACKEND';
const saved = process.env[ENV];

/** A fresh copy of backend.ts (its once-per-process state reset); tfjs-core itself is shared. */
async function freshBackend(forced?: string) {
  vi.resetModules();
  if (forced === undefined) delete process.env[ENV];
  else process.env[ENV] = forced;
  return import('./backend.js');
}

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  if (saved === undefined) delete process.env[ENV];
  else process.env[ENV] = saved;
});

describe('initTfjs', () => {
  // First in the file: the wasm module initialises once per process.
  it('loads the wasm binary from the package folder whatever the working directory', async () => {
    const cwd = process.cwd();
    process.chdir('/');
    try {
      const { initTfjs, getTf } = await freshBackend('wasm');
      expect((await initTfjs()).backend).toBe('wasm');
      const tf = await getTf();
      expect(Array.from(await tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).data())).toEqual([4, 6]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('picks tfjs-node when installed, else wasm, and reports the tfjs version', async () => {
    const { initTfjs } = await freshBackend();
    const info = await initTfjs();
    expect(info.backend).toBe(tfjsNodeInstalled() ? 'tensorflow' : 'wasm');
    expect(info.tfjsVersion).toBe((require('@tensorflow/tfjs-core/package.json') as { version: string }).version);
  });

  it('is idempotent: one promise, one backend', async () => {
    const { initTfjs, getTf } = await freshBackend();
    const first = initTfjs();
    expect(initTfjs()).toBe(first);
    const info = await first;
    expect(await initTfjs()).toBe(info);
    expect((await getTf()).getBackend()).toBe(info.backend);
  });

  it(`honours ${ENV}=cpu`, async () => {
    const { initTfjs, getTf } = await freshBackend('cpu');
    expect((await initTfjs()).backend).toBe('cpu');
    expect((await getTf()).getBackend()).toBe('cpu');
  });

  it(`refuses an unknown ${ENV} value and a backend that is not installed`, async () => {
    const bad = await freshBackend('gpu');
    // resetModules gives this copy its own errors.js, so match the class by name and code.
    await expect(bad.initTfjs()).rejects.toMatchObject({ name: 'UsageError', code: 'USAGE' });
    await expect(bad.initTfjs()).rejects.toThrow(/'gpu' is not a tfjs backend \(known: tensorflow, wasm, cpu\)/);
    if (!tfjsNodeInstalled()) {
      const missing = await freshBackend('tensorflow');
      await expect(missing.initTfjs()).rejects.toThrow(/install @tensorflow\/tfjs-node/);
    }
  });
});
